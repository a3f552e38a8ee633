# Hostile input and permission tests for passthroughfs
# (integration/hostile_test.cc): symlinks pointing outside SOURCE, a symlink
# swapped in for a directory during lookups, awkward names, unprivileged
# users with allow_other. Some cases run the passthroughfs binary under
# strace to prove the daemon never names a path outside SOURCE.
add_executable(hostile_tests ${CMAKE_CURRENT_LIST_DIR}/hostile_test.cc)
target_link_libraries(hostile_tests PRIVATE
  passthroughfs_core fusekit_test_fixture GTest::gtest_main)
add_dependencies(hostile_tests passthroughfs)
# RUN_SERIAL: the cases chmod temp dirs for uid 4321, scan /proc and use
# timing-driven races.
gtest_discover_tests(hostile_tests
  PROPERTIES LABELS integration TIMEOUT 180 RUN_SERIAL TRUE)
