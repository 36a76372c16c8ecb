"""relay-harness: replays relay-conformance scenario files against a relay, as a pytest plugin
(relay_harness.plugin). See docs/pyharness.md."""
