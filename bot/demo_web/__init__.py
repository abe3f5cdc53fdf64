"""The demo workspace in a browser: the emulated Slack workspace and helpdesks, served by `deskwatch demo`.

`render` turns Block Kit into HTML (pure), `signing` posts signed Slack requests to the bot, `server`
serves the page (waitress, 127.0.0.1 only) from the emulators' own state."""
