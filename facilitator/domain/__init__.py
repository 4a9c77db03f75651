"""Pure domain code: the live-session state machine, exercises, vocabulary and views."""
