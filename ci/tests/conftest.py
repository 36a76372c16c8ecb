"""Markers of the ci/ kit's tests."""


def pytest_configure(config):
    config.addinivalue_line("markers", "stress: minutes-long runs of the whole library under latency and CPU load "
                                       "(select with -m stress, skip with -m 'not stress')")
