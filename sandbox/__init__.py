"""Local Telegram Bot API emulator with a web "phone", used by the demo, the tests and the benchmarks."""
