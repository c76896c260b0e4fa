"""One module per conversation; `bot.factory` wires their routers together."""
