# The passthroughfs command line, run as users run it (real mounts, daemon
# mode, signals, mount(8) through mount.fuse3, an fstab line).
add_executable(cli_tests ${CMAKE_CURRENT_LIST_DIR}/cli_test.cc)
target_link_libraries(cli_tests PRIVATE fusekit_test_fixture GTest::gtest_main)
# The tests run the passthroughfs binary.
add_dependencies(cli_tests passthroughfs)
# RUN_SERIAL: the mount(8) tests bind a directory over /usr/local/sbin in a
# private mount namespace, and daemons are found by scanning /proc.
gtest_discover_tests(cli_tests PROPERTIES LABELS integration TIMEOUT 120 RUN_SERIAL TRUE)
