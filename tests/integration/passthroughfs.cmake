# The passthroughfs behaviour suite (integration/fs_behaviour_test.cc): every
# case natively in a SOURCE directory and through PassthroughFs served
# in-process over it (passthrough=auto, passthrough=never, direct_io,
# cache=never). Included from tests/CMakeLists.txt, after
# fusekit_test_fixture is defined.
add_executable(fs_behaviour_tests ${CMAKE_CURRENT_LIST_DIR}/fs_behaviour_test.cc)
target_link_libraries(fs_behaviour_tests PRIVATE
  passthroughfs_core fusekit_test_fixture GTest::gtest_main)
# Each case mounts below its own temp dir and depends on no timing, so
# parallel runs do not interfere (checked with ctest -j6): no RUN_SERIAL.
gtest_discover_tests(fs_behaviour_tests
  PROPERTIES LABELS integration TIMEOUT 300)

add_executable(fs_semantics_tests integration/fs_semantics_test.cc)
target_link_libraries(fs_semantics_tests PRIVATE passthroughfs_core fusekit_test_fixture GTest::gtest_main)
gtest_discover_tests(fs_semantics_tests PROPERTIES LABELS integration TIMEOUT 120 RUN_SERIAL TRUE)

# Round trips passthroughfs spares (page cache kept, FLUSH skipped, lookups
# without a new fd) and the correctness each must keep.
add_executable(fs_round_trip_tests integration/fs_round_trip_test.cc)
target_link_libraries(fs_round_trip_tests PRIVATE passthroughfs_core fusekit_test_fixture GTest::gtest_main)
gtest_discover_tests(fs_round_trip_tests PROPERTIES LABELS integration TIMEOUT 120)
