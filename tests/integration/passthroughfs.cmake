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
  PROPERTIES LABELS integration TIMEOUT 300 FIXTURES_REQUIRED enable_uring)

add_executable(fs_semantics_tests integration/fs_semantics_test.cc)
target_link_libraries(fs_semantics_tests PRIVATE passthroughfs_core fusekit_test_fixture GTest::gtest_main)
gtest_discover_tests(fs_semantics_tests PROPERTIES LABELS integration TIMEOUT 120 RUN_SERIAL TRUE)

# Round trips passthroughfs spares (page cache kept, FLUSH skipped, lookups
# without a new fd) and the correctness each must keep.
add_executable(fs_round_trip_tests integration/fs_round_trip_test.cc)
target_link_libraries(fs_round_trip_tests PRIVATE passthroughfs_core fusekit_test_fixture GTest::gtest_main)
gtest_discover_tests(fs_round_trip_tests PROPERTIES LABELS integration TIMEOUT 120)

# The behaviour suite's IoUring modes serve over FUSE-over-io_uring, which
# needs the kernel's global enable_uring switch: a fixture turns it on
# before them and puts the old value back after.
add_test(NAME enable_uring_set
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/enable_uring.sh set ${CMAKE_BINARY_DIR}/enable_uring.saved)
add_test(NAME enable_uring_restore
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/enable_uring.sh restore ${CMAKE_BINARY_DIR}/enable_uring.saved)
set_tests_properties(enable_uring_set PROPERTIES FIXTURES_SETUP enable_uring LABELS integration)
set_tests_properties(enable_uring_restore PROPERTIES FIXTURES_CLEANUP enable_uring LABELS integration)

# setuid/setgid under changes by unprivileged users, native and mounted
# side by side (integration/setid_test.cc).
add_executable(setid_tests ${CMAKE_CURRENT_LIST_DIR}/setid_test.cc)
target_link_libraries(setid_tests PRIVATE passthroughfs_core fusekit_test_fixture GTest::gtest_main)
gtest_discover_tests(setid_tests
  PROPERTIES LABELS integration TIMEOUT 120 FIXTURES_REQUIRED enable_uring)

# The atime options against a native bind mount with the same options
# (integration/atime_test.cc).
add_executable(atime_tests ${CMAKE_CURRENT_LIST_DIR}/atime_test.cc)
target_link_libraries(atime_tests PRIVATE passthroughfs_core fusekit_test_fixture GTest::gtest_main)
gtest_discover_tests(atime_tests
  PROPERTIES LABELS integration TIMEOUT 120 FIXTURES_REQUIRED enable_uring)

# POSIX ACLs, native and mounted side by side (integration/acl_test.cc).
add_executable(acl_tests ${CMAKE_CURRENT_LIST_DIR}/acl_test.cc)
target_link_libraries(acl_tests PRIVATE passthroughfs_core fusekit_test_fixture GTest::gtest_main)
gtest_discover_tests(acl_tests
  PROPERTIES LABELS integration TIMEOUT 120 FIXTURES_REQUIRED enable_uring)

# File handles taken on the mount, opened after the kernel forgot the inode
# (integration/export_test.cc). RUN_SERIAL: drop_caches is global.
add_executable(export_tests ${CMAKE_CURRENT_LIST_DIR}/export_test.cc)
target_link_libraries(export_tests PRIVATE passthroughfs_core fusekit_test_fixture GTest::gtest_main)
gtest_discover_tests(export_tests PROPERTIES LABELS integration TIMEOUT 120 RUN_SERIAL TRUE)

# 50,000 files with the daemon at 1,024 fds (integration/scale_test.cc).
# RUN_SERIAL: it drops the kernel's caches, and its fd sampling should not
# compete for the 2 cores.
add_executable(scale_tests ${CMAKE_CURRENT_LIST_DIR}/scale_test.cc)
target_link_libraries(scale_tests PRIVATE fusekit_test_fixture GTest::gtest_main)
add_dependencies(scale_tests passthroughfs)
gtest_discover_tests(scale_tests PROPERTIES LABELS integration TIMEOUT 300 RUN_SERIAL TRUE)

# Changes in SOURCE seen through the mount within 100 ms, with the watcher
# (integration/staleness_test.cc).
add_executable(staleness_tests ${CMAKE_CURRENT_LIST_DIR}/staleness_test.cc)
target_link_libraries(staleness_tests PRIVATE passthroughfs_core fusekit_test_fixture GTest::gtest_main)
gtest_discover_tests(staleness_tests
  PROPERTIES LABELS integration TIMEOUT 120 FIXTURES_REQUIRED enable_uring)

# The watcher under a storm of changes and with its queue overflowing
# (integration/watcher_load_test.cc). RUN_SERIAL: the overflow case sets the
# kernel's global queue limits (restored after), and the storm is heavy.
add_executable(watcher_load_tests ${CMAKE_CURRENT_LIST_DIR}/watcher_load_test.cc)
target_link_libraries(watcher_load_tests PRIVATE passthroughfs_core fusekit_test_fixture GTest::gtest_main)
gtest_discover_tests(watcher_load_tests PROPERTIES LABELS integration TIMEOUT 300 RUN_SERIAL TRUE)

# Live statistics through the root's user.passthroughfs.stats and
# `passthroughfs stats` (integration/stats_test.cc).
add_executable(stats_tests ${CMAKE_CURRENT_LIST_DIR}/stats_test.cc)
target_link_libraries(stats_tests PRIVATE passthroughfs_core fusekit_test_fixture GTest::gtest_main)
add_dependencies(stats_tests passthroughfs)
gtest_discover_tests(stats_tests PROPERTIES LABELS integration TIMEOUT 120)

# Backing files kept registered after the last close
# (integration/kept_backing_test.cc).
add_executable(kept_backing_tests ${CMAKE_CURRENT_LIST_DIR}/kept_backing_test.cc)
target_link_libraries(kept_backing_tests PRIVATE passthroughfs_core fusekit_test_fixture GTest::gtest_main)
# RUN_SERIAL: the watcher's queue is shared by the whole filesystem; a
# storm from another test overflows it, and an overflow rightly drops every
# kept backing file (an ASan run saw one).
gtest_discover_tests(kept_backing_tests PROPERTIES LABELS integration TIMEOUT 120 RUN_SERIAL TRUE)
