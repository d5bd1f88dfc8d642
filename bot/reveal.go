package bot

// EvRevealed records, on the ticket's audit trail, that a supervisor or admin saw one field of the
// customer's personal data unmasked (the console's reveal): Actor who, At when, Text "<field>:
// <reason>" (sealed like every event text), always Internal. The personal-data audit log
// (storage.Access) records the same reveal without the reason.
const EvRevealed EventKind = "pii_revealed"
