-- criticloop's data model. Natural-key primary keys and unique constraints make every result write
-- idempotent: workers insert with ON CONFLICT DO NOTHING, and only the first write counts.

create table datasets (
    id          uuid primary key,
    name        text not null,
    created_at  timestamptz not null default now()
);

create table prompts (
    id               uuid primary key,
    dataset_id       uuid not null references datasets(id) on delete cascade,
    position         integer not null,
    question         text not null,
    image_ref        text,               -- sha256 of an artifact, or null for text-only prompts
    reference_answer text,
    unique (dataset_id, position)
);

create table campaigns (
    id                    uuid primary key,
    name                  text not null,
    dataset_id            uuid not null references datasets(id),
    config                jsonb not null,   -- the full campaign config as submitted
    state                 text not null default 'running'
                          check (state in ('running', 'paused', 'completed', 'failed', 'cancelled')),
    rounds_total          integer not null check (rounds_total >= 1),
    current_checkpoint_id uuid,             -- the policy the next round starts from
    failure_reason        text,
    created_at            timestamptz not null default now(),
    updated_at            timestamptz not null default now()
);

create table checkpoints (
    id           uuid primary key,
    campaign_id  uuid not null references campaigns(id) on delete cascade,
    parent_id    uuid references checkpoints(id),
    round_id     uuid,                       -- the round whose training produced it; null for the base
    uri          text not null,
    metrics      jsonb not null default '{}'::jsonb,
    collectable  boolean not null default false,  -- compensation marks artifacts of failed rounds
    created_at   timestamptz not null default now(),
    unique (round_id)
);

alter table campaigns add constraint campaigns_checkpoint_fk
    foreign key (current_checkpoint_id) references checkpoints(id) deferrable initially deferred;

create table rounds (
    id                   uuid primary key,
    campaign_id          uuid not null references campaigns(id) on delete cascade,
    number               integer not null check (number >= 1),
    state                text not null default 'sampling'
                         check (state in ('sampling', 'judging', 'aggregating', 'training', 'evaluating',
                                          'completed', 'failed', 'cancelled')),
    paused               boolean not null default false,
    version              bigint not null default 0,   -- bumped on every saga transition
    base_checkpoint_id   uuid not null references checkpoints(id),
    result_checkpoint_id uuid references checkpoints(id),
    samples_per_prompt   integer not null check (samples_per_prompt >= 2),
    prompts_total        integer not null,
    -- prompts past each pipelined stage, counting prompts that failed before reaching it
    sampling_done        integer not null default 0,
    judging_done         integer not null default 0,
    aggregating_done     integer not null default 0,
    prompts_failed       integer not null default 0,
    pairs_total          integer not null default 0,
    failure_reason       text,
    traceparent          text,                       -- the round's trace, parent of every task span
    training_queued_at   timestamptz,                -- the train task written to the outbox
    evaluation_queued_at timestamptz,
    created_at           timestamptz not null default now(),
    finished_at          timestamptz,
    unique (campaign_id, number)
);

-- Per-prompt progress of a round: the idempotency gate for the saga's per-prompt transitions.
create table round_prompts (
    round_id        uuid not null references rounds(id) on delete cascade,
    prompt_id       uuid not null references prompts(id),
    -- new -> sampling -> generated -> judging -> judged -> aggregating -> aggregated, or failed.
    -- `generated` and `judged` hold a prompt whose next fan-out waits (the round is paused).
    state           text not null default 'new'
                    check (state in ('new', 'sampling', 'generated', 'judging', 'judged', 'aggregating',
                                     'aggregated', 'failed')),
    judgments_done  integer not null default 0,
    primary key (round_id, prompt_id)
);
create index round_prompts_state on round_prompts (round_id, state);

create table samples (
    round_id     uuid not null references rounds(id) on delete cascade,
    prompt_id    uuid not null,
    sample_index integer not null,
    response     text not null,
    created_at   timestamptz not null default now(),
    primary key (round_id, prompt_id, sample_index)
);

create table judgments (
    round_id    uuid not null references rounds(id) on delete cascade,
    prompt_id   uuid not null,
    i           integer not null,
    j           integer not null,
    verdict     jsonb not null,       -- critic::Parsed: a verdict or unparsed with its reason
    score       double precision,     -- a_ij, null when unparsed
    raw_output  text not null,
    created_at  timestamptz not null default now(),
    primary key (round_id, prompt_id, i, j),
    check (i <> j)
);

create table rewards (
    round_id     uuid not null references rounds(id) on delete cascade,
    prompt_id    uuid not null,
    sample_index integer not null,
    reward       double precision not null,
    primary key (round_id, prompt_id, sample_index)
);

create table pairs (
    round_id        uuid not null references rounds(id) on delete cascade,
    prompt_id       uuid not null,
    chosen_index    integer not null,
    rejected_index  integer not null,
    chosen_reward   double precision not null,
    rejected_reward double precision not null,
    created_at      timestamptz not null default now(),
    primary key (round_id, prompt_id)
);

create table evaluations (
    checkpoint_id uuid not null references checkpoints(id) on delete cascade,
    round_id      uuid references rounds(id) on delete cascade,
    suite         text not null,
    metrics       jsonb not null,
    created_at    timestamptz not null default now(),
    primary key (checkpoint_id, suite)
);

-- One row per task that failed at least once; `dead` once it will not be retried.
create table task_failures (
    task_key    text primary key,
    stage       text not null,
    round_id    uuid,
    prompt_id   uuid,
    attempts    integer not null default 0,
    last_error  text not null,
    dead        boolean not null default false,
    dead_reason text,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now()
);
create index task_failures_round on task_failures (round_id) where dead;

-- Messages committed with the state change that caused them, relayed to RabbitMQ afterwards.
-- One row may hold many messages of one fan-out; the relay publishes them all before deleting the row.
create table outbox (
    id          bigserial primary key,
    messages    jsonb not null,   -- [{kind, route, body}]
    traceparent text,
    created_at  timestamptz not null default now()
);

-- Leases for long tasks (training, evaluation): the worker acknowledges the message once it holds the
-- lease and keeps it alive with heartbeats; an expired lease of an unfinished task is taken over.
create table task_leases (
    task_key     text primary key,
    owner        text not null,
    attempt      integer not null default 1,
    message      jsonb not null,           -- the task, to republish when the lease expires
    traceparent  text,
    claimed_at   timestamptz not null default now(),
    heartbeat_at timestamptz not null default now(),
    expires_at   timestamptz not null,
    completed_at timestamptz
);
create index task_leases_open on task_leases (expires_at) where completed_at is null;
