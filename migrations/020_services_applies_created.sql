-- The Messaging Services an apply created in a customer's subaccount are services of that
-- subaccount. No snapshot lists them (it reads the parent, and a subaccount only when named),
-- so under 019 an opt-in through one, which reconcile reads into the ledger after the move,
-- lifted only its number's opt-outs, and coverage called the tool's own service a SID not
-- known as a service. From now on an apply records each one it creates (or adopts when it
-- settles a create); these are those earlier applies created.
INSERT OR IGNORE INTO messaging_services (account_sid, service_sid, first_seen_at)
  SELECT result_json ->> '$.account_sid', result_json ->> '$.service_sid', MIN(finished_at)
  FROM apply_steps
  WHERE action = 'create_service' AND state IN ('done', 'skipped')
    AND result_json ->> '$.account_sid' <> '' AND result_json ->> '$.service_sid' IS NOT NULL
    AND finished_at IS NOT NULL
  GROUP BY 1, 2;
