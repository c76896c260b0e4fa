"""Messages not sent in reply to an update: the outbox sender, campaigns and reminders."""
