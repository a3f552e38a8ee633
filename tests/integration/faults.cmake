# Fault tests for passthroughfs (integration/faults_test.cc): the daemon
# SIGKILLed under load, SOURCE out of space, the daemon out of fds, and
# SOURCE changed behind the mount while clients read. Included from
# tests/CMakeLists.txt, after fusekit_test_fixture is defined.
add_executable(faults_tests ${CMAKE_CURRENT_LIST_DIR}/faults_test.cc)
target_link_libraries(faults_tests PRIVATE
  passthroughfs_core fusekit_test_fixture GTest::gtest_main)
# The daemon tests run the passthroughfs binary.
add_dependencies(faults_tests passthroughfs)
# RUN_SERIAL: the fd test drops the kernel's caches (global) and the
# timing of the kill and churn tests should not compete for the 2 cores.
gtest_discover_tests(faults_tests
  PROPERTIES LABELS integration TIMEOUT 180 RUN_SERIAL TRUE)
