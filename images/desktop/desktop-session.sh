#!/bin/sh
# The X session of rosetta/desktop, run by start-desktop.sh under dbus-launch:
# a plain background, one terminal, and the fluxbox window manager
# (right-click on the desktop for its menu). Exiting fluxbox ends the task.
mkdir -p "$HOME/.fluxbox"
# Keep xsetroot's colour: fluxbox styles would otherwise call fbsetbg, which
# needs tools this image does not have. A user's own overlay is kept.
[ -e "$HOME/.fluxbox/overlay" ] || printf 'background: none\n' >"$HOME/.fluxbox/overlay"
xsetroot -solid '#2f3b4a' 2>/dev/null || true
xterm -geometry 110x32+40+40 -title Terminal -ls &
# fluxbox's messages (first-start defaults, its helper scripts, programs
# started from its menu) go to ~/.fluxbox/log, not to the task log.
exec fluxbox >>"$HOME/.fluxbox/log" 2>&1
