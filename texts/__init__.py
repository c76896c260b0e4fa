"""What every part may share about text itself, below all of them: Telegram's HTML formatting subset
(telegram_html), which a message must keep to or the Bot API refuses it; the console checks campaign
texts with it and the sandbox answers with it. Right-to-left text with its left-to-right pieces
isolated (bidi), free text without invisible characters (visible) and button widths (width)."""
