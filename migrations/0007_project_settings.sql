-- Per-project privacy settings: whether free text (prompts, responses, tool input and output) is
-- stored at all, and which kinds the redaction pass masks before it is written. A project without
-- a row gets the defaults: text kept, every kind masked.
CREATE TABLE project_settings (
    project_id  bigint PRIMARY KEY REFERENCES projects (id),
    store_text  boolean NOT NULL DEFAULT true,
    redact      text[] NOT NULL DEFAULT '{card,email,iban,phone,secret}',
    updated_at  timestamptz NOT NULL DEFAULT now()
);
