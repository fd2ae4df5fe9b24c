//! criticloop's benchmarks: `raw` measures the broker ceiling of this machine (RabbitMQ quorum queue,
//! persistent messages, publisher confirms, no database); `saga` runs one round of a campaign through
//! a local cluster of the real service binaries and reads the timings back from Postgres.
//! `backlog` pushes one judge job (JSONL upload, dispatcher, judging, scoring) through the same cluster.
//! `critic` measures the critic core (parsers, agreement metrics) on one thread.
//! `bench/celery_peer.py` is the peer comparison (Celery + RabbitMQ + Postgres, one insert per task).

pub mod backlog;
pub mod critic;
pub mod raw;
pub mod report;
pub mod saga;
