"""The end-to-end demo behind `zkoracle demo` and the README's first command."""
