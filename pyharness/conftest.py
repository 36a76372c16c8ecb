# Running `python3 -m pytest pyharness` from a checkout: load the plugin without installing it
# (pytest's default import mode puts this directory on sys.path), and pytester for the plugin's tests.
pytest_plugins = ["pytester", "relay_harness.plugin"]
