-- A message whose messaging_service_sid was written "" (a Bulk Export day file may write a
-- field it has no value for so) was kept with "" for a Messaging Service SID: every bare
-- number's evidence to one person in an account was then one pair, so a START to one number
-- lifted a STOP to another. "" is no service: such evidence is number scope.
UPDATE ledger_events SET messaging_service_sid = NULL WHERE messaging_service_sid = '';
UPDATE undated_evidence SET messaging_service_sid = NULL WHERE messaging_service_sid = '';
