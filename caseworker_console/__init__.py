"""The caseworker console: a server-rendered web app where staff sign in and work on cases."""
