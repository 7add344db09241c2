-- A number whose transfer failed (someone moved it by hand out of the account it comes from)
-- found in another customer's subaccount that the passes read is judged there once the family's
-- messages show it stopped over nowhere else on its way (reconcile, not-moved.ts). Until now the
-- reading was not kept, and every pass read the family again for each such number. A reading
-- that vouched (no message of it elsewhere, every account read) is kept here, by the number
-- (`number_sid`), the subaccount it was found in (`account_sid`), when the apply run that was to
-- move it began (`run_began`), Twilio's `date_updated` on it there and when Twilio refused that
-- transfer (`refused_at`): read from `run_began` up to `read_up_to` (this machine's clock). A
-- later pass that finds all of those the same reads on only from `read_up_to` (less the clocks'
-- allowance), and not at all once `read_up_to` is more than Twilio's longest validity period
-- (36,000 s, and the allowance) after `date_updated`: the number has been there since, so a
-- message of it dated elsewhere later would have been queued there before and sent after that
-- period, which Twilio does not do. Anything else differing reads from `run_began` again. A
-- message found, or an account unreadable, keeps nothing: each pass reads again and names it.
CREATE TABLE transfer_failed_reads (
  number_sid    TEXT NOT NULL,
  account_sid   TEXT NOT NULL,
  run_began     TEXT NOT NULL,
  date_updated  TEXT NOT NULL,
  refused_at    TEXT NOT NULL,
  read_up_to    TEXT NOT NULL,
  accounts_read INTEGER NOT NULL,
  requests      INTEGER NOT NULL,
  PRIMARY KEY (number_sid, account_sid, run_began, date_updated, refused_at)
) WITHOUT ROWID;
