-- Which command started each snapshot run: `snapshot`, `plan` (its refresh of the ledger),
-- `apply` (its read up to the moves), `demo`, or `reconcile` (a pass records what it read as a
-- run of the subaccounts). A run another command takes up keeps the one that started it.
-- `status` and `snapshot` read it to tell a pass's run (one killed before its pass was recorded
-- has no pass number) from a snapshot's.
ALTER TABLE snapshot_runs ADD COLUMN made_by TEXT NOT NULL DEFAULT 'snapshot'
  CHECK (made_by IN ('snapshot', 'plan', 'apply', 'demo', 'reconcile'));

-- Runs recorded before this column are told by their shape, as submigrate told them until now:
-- a pass's run is one a pass was recorded for, or one with windows and nothing that reads them
-- (no slice, no Bulk Export day), which a snapshot's never is. Every other run is `snapshot`'s:
-- a plan's, apply's or the demo's read of those days cannot be told from one by its shape.
UPDATE snapshot_runs SET made_by = 'reconcile'
WHERE id IN (SELECT snapshot_run_id FROM reconcile_passes)
   OR (EXISTS (SELECT 1 FROM snapshot_windows w WHERE w.run_id = snapshot_runs.id)
       AND NOT EXISTS (SELECT 1 FROM snapshot_slices s WHERE s.run_id = snapshot_runs.id)
       AND NOT EXISTS (SELECT 1 FROM snapshot_export_days d WHERE d.run_id = snapshot_runs.id));
