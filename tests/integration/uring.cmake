# FUSE-over-io_uring on real mounts (integration/uring_test.cc). Included
# from tests/CMakeLists.txt, after fusekit_test_fixture is defined.
add_executable(uring_tests ${CMAKE_CURRENT_LIST_DIR}/uring_test.cc)
target_link_libraries(uring_tests PRIVATE
  passthroughfs_core hello_fs fusekit_test_fixture GTest::gtest_main)
# RUN_SERIAL: the tests flip the kernel's global enable_uring switch.
gtest_discover_tests(uring_tests PROPERTIES LABELS integration TIMEOUT 120 RUN_SERIAL TRUE)
