"""What is said to a person in the bot's languages, whichever part says it: the languages and the
bot's catalog (languages), dates and times (dates), how a button press is written (taps), and the
messages the console and the worker send through the outbox (a proposed time, the answer to
feedback, erasure notices, a caseworker's reply, the campaigns' /stop line, the flyer's invitation).

Below the bot, the console and outreach, which all speak to beneficiaries; it imports only
`programme` and `texts`. Its strings are in the bot's catalog (`bot/locales`, the Makefile's
BOT_SOURCES), so a person reads the same words whichever part writes to them.
"""
