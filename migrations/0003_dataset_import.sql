-- Dataset import (issue #7): prompts and critic-training conversations from llava-json, jsonl and parquet
-- files, with images in the artifact store, and a record of every import with its rejected rows.

alter table prompts
    -- what the row is for; campaigns sample only `prompt` rows
    add column kind          text not null default 'prompt'
                             check (kind in ('prompt', 'critic_pointwise', 'critic_pairwise')),
    add column external_id   text,     -- the dataset's own id of the row (imports); null for inline prompts
    add column source        text,     -- the row's source dataset, as the file names it
    add column conversations jsonb,    -- [{from, value}] as imported; null for inline prompts
    add column image_meta    jsonb,    -- {width, height, format, size} of the checked image
    add column extra         jsonb,    -- the record's other fields
    -- a re-import finds its rows by this key and inserts nothing (nulls never conflict: inline prompts)
    add constraint prompts_dataset_kind_external_id unique (dataset_id, kind, external_id);

-- `image_ref` keeps holding the bare 64-hex sha256 of an `images/` artifact (APIs show it as `sha256:<hex>`).

create table dataset_imports (
    id                  uuid primary key,
    dataset_id          uuid not null references datasets(id) on delete cascade,
    file_digest         text not null,       -- sha256 of the imported file
    file_size           bigint not null,
    format              text not null,       -- llava-json | jsonl | parquet
    kind                text not null,
    rows_ok             bigint not null,
    rows_new            bigint not null,     -- rows this import inserted (the others were already there)
    rows_rejected       bigint not null,
    images_stored       bigint not null,
    images_deduplicated bigint not null,
    rejected            jsonb not null,      -- [{row_number, id, reason: {code, ...}, message}]
    created_at          timestamptz not null default now(),
    -- importing the same file into the same dataset again records nothing new
    unique (dataset_id, file_digest, kind)
);
