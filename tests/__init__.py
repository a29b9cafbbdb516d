"""unroot's test suite, a package so that bench/ and tools/ import its fake GitHub as tests.fakegithub."""
