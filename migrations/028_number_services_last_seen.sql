-- When a number was last seen in each Messaging Service, and when it first left it: migration
-- 026 kept only the first listing that saw a number in a service, so a START said through the
-- service while the number was still in it, but after that first listing, was taken as said
-- after the number left it (its list kept an opt-out the person had lifted). Now each row also
-- keeps:
--   last_seen     the last listing (a snapshot's, or a plan's refresh) of the account that saw
--                 the number in the service;
--   stayed_until  the last listing that saw it there before the first listing of the account
--                 that did not (moved out of the service, or out of the account): the end of
--                 its first stay there. NULL while every listing since the first has shown it
--                 there. A number that left and came back keeps the end of its first stay: an
--                 opt-in through the service after it is not taken as the number's;
--   left_seen     the first listing of the account since `last_seen` that did not show it in
--                 the service: it had left by then. NULL while the latest listing shows it
--                 there, or when not known.
CREATE TABLE number_services_seen_028 (
  phone_number          TEXT NOT NULL,
  account_sid           TEXT NOT NULL,
  messaging_service_sid TEXT NOT NULL,
  first_seen            TEXT NOT NULL,
  last_seen             TEXT NOT NULL,
  stayed_until          TEXT,
  left_seen             TEXT,
  PRIMARY KEY (phone_number, account_sid, messaging_service_sid)
) WITHOUT ROWID;

-- Filled from what an older version kept: the last listing that saw the number in the service
-- is the latest listing of the account (`numbers`) when it still shows it there, else the last
-- listing that saw it in the account when the number was in the service then (migration 027),
-- else (neither is known) the first. No older version kept a listing that showed the number out
-- of a service it came back into: the stay is taken as unbroken from the first to the last of
-- these, as the opt-out rule took it when the account's latest listing still showed it there.
-- One the account's latest listing no longer shows there stayed until that last one, and had
-- left by that latest listing, or by a later listing of another account that holds the number
-- now, the earlier of the two (the first listing that showed it out may have been earlier:
-- none kept it).
WITH listed AS (
  SELECT account_sid, phone_number, messaging_service_sid, MAX(observed_at) AS at
  FROM numbers WHERE messaging_service_sid IS NOT NULL
  GROUP BY account_sid, phone_number, messaging_service_sid
),
stayed AS (
  SELECT account_sid, phone_number, messaging_service_sid, MAX(last_seen) AS at
  FROM number_accounts_seen WHERE messaging_service_sid IS NOT NULL
  GROUP BY account_sid, phone_number, messaging_service_sid
),
account_listed AS (
  SELECT account_sid, MAX(observed_at) AS at FROM numbers GROUP BY account_sid
),
-- A number listed in another account (one account holds it at a time).
listed_elsewhere AS (
  SELECT s.phone_number, s.account_sid, s.messaging_service_sid, MIN(n.observed_at) AS at
  FROM number_services_seen s
  JOIN numbers n ON n.phone_number = s.phone_number AND n.account_sid <> s.account_sid
  GROUP BY s.phone_number, s.account_sid, s.messaging_service_sid
),
seen AS (
  SELECT s.phone_number, s.account_sid, s.messaging_service_sid, s.first_seen,
         MAX(s.first_seen, COALESCE(n.at, ''), COALESCE(l.at, '')) AS last_seen,
         n.at AS listed_in, a.at AS account_listed, e.at AS elsewhere
  FROM number_services_seen s
  LEFT JOIN listed n
    ON n.account_sid = s.account_sid AND n.phone_number = s.phone_number
   AND n.messaging_service_sid = s.messaging_service_sid
  LEFT JOIN stayed l
    ON l.account_sid = s.account_sid AND l.phone_number = s.phone_number
   AND l.messaging_service_sid = s.messaging_service_sid
  LEFT JOIN account_listed a ON a.account_sid = s.account_sid
  LEFT JOIN listed_elsewhere e
    ON e.phone_number = s.phone_number AND e.account_sid = s.account_sid
   AND e.messaging_service_sid = s.messaging_service_sid
)
INSERT INTO number_services_seen_028
  (phone_number, account_sid, messaging_service_sid, first_seen, last_seen, stayed_until,
   left_seen)
SELECT phone_number, account_sid, messaging_service_sid, first_seen, last_seen,
       CASE WHEN listed_in IS NULL THEN last_seen END,
       CASE WHEN listed_in IS NOT NULL THEN NULL
            WHEN account_listed > last_seen
             AND (elsewhere IS NULL OR elsewhere <= last_seen OR account_listed <= elsewhere)
              THEN account_listed
            WHEN elsewhere > last_seen THEN elsewhere END
FROM seen;

DROP TABLE number_services_seen;
ALTER TABLE number_services_seen_028 RENAME TO number_services_seen;

-- A listing of an account marks the rows of that account it no longer shows.
CREATE INDEX number_services_seen_by_account ON number_services_seen (account_sid);
