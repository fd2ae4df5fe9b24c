-- Judge jobs ("backlogs"): items judged by the critic outside any campaign. Items live here, not in
-- the broker: the orchestrator's dispatcher releases them in chunks, a bounded window at a time, in
-- the jobs' priority shares (RabbitMQ 3.10 quorum queues have no message priorities).

create table judge_jobs (
    id            uuid primary key,
    name          text,
    priority      smallint not null check (priority between 0 and 9),
    critic        text not null,        -- the critic checkpoint (path or artifact reference)
    template      text,                 -- the default template of items that name none
    state         text not null default 'running'
                  check (state in ('running', 'scoring', 'completed', 'cancelled')),
    items_total   integer not null,
    items_judged  integer not null default 0,   -- a verdict or unparsed output stored
    items_failed  integer not null default 0,   -- the critic call failed for good
    chunk_items   integer not null check (chunk_items >= 1),
    chunks_total  integer not null,
    chunks_dispatched integer not null default 0,  -- chunks are released in order: 0, 1, ...
    -- stride scheduling: the job with the lowest pass gets the next chunk; pass += 2^(9 - priority)
    pass          double precision,
    has_labels    boolean not null default false,
    metrics       jsonb,
    traceparent   text,
    created_at    timestamptz not null default now(),
    finished_at   timestamptz
);
create index judge_jobs_running on judge_jobs (state) where state = 'running';

create table judge_items (
    job_id       uuid not null references judge_jobs(id) on delete cascade,
    position     integer not null,          -- 0-based order in the upload (line number - 1 - blank lines)
    chunk        integer not null,
    item         jsonb not null,            -- protocol::JudgeItem as submitted
    template     text not null,             -- resolved at submission
    verdict      jsonb,                     -- critic::Parsed once judged
    score        double precision,          -- a_12 for pairwise verdicts, the score for pointwise
    raw_output   text,
    error        text,                      -- why the item failed for good
    judged_at    timestamptz,
    primary key (job_id, position)
);
create index judge_items_chunk on judge_items (job_id, chunk);

-- A row per released chunk: `dispatched` until every item of it is judged or failed.
create table judge_chunks (
    job_id        uuid not null references judge_jobs(id) on delete cascade,
    chunk         integer not null,
    state         text not null default 'dispatched' check (state in ('dispatched', 'done')),
    dispatched_at timestamptz,
    done_at       timestamptz,
    primary key (job_id, chunk)
);
create index judge_chunks_in_flight on judge_chunks (state) where state = 'dispatched';

alter table task_failures add column job_id uuid;
create index task_failures_job on task_failures (job_id) where job_id is not null;
