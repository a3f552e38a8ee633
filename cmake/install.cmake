# What `cmake --install` (and `make install`) puts under the prefix: the
# library with its public headers, a CMake package (find_package(fusekit)
# gives fusekit::fusekit), fusekit.pc, passthroughfs in sbin (where
# mount.fuse3's shell finds it for `mount -t fuse.passthroughfs`), the man
# pages, and the examples a consumer can build out of tree.
include(CMakePackageConfigHelpers)
set(FUSEKIT_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/fusekit)

install(TARGETS ${FUSEKIT_INSTALLED_LIBRARIES} EXPORT fusekitTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/fusekit DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT fusekitTargets NAMESPACE fusekit:: DESTINATION ${FUSEKIT_CMAKE_DIR})
configure_package_config_file(cmake/fusekitConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/fusekitConfig.cmake INSTALL_DESTINATION ${FUSEKIT_CMAKE_DIR})
# 0.x: a minor version may break the API.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/fusekitConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/fusekitConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/fusekitConfigVersion.cmake DESTINATION ${FUSEKIT_CMAKE_DIR})

# pkg-config: liburing is the library's own business when it is shared;
# a static libfusekit needs it on the consumer's link line.
if(FUSEKIT_SHARED)
  set(FUSEKIT_PC_LIBS "-lfusekit")
  set(FUSEKIT_PC_LIBS_PRIVATE "-luring -pthread")
else()
  set(FUSEKIT_PC_LIBS "-lfusekit -luring -pthread")
  set(FUSEKIT_PC_LIBS_PRIVATE "")
endif()
# Relocatable: the prefix is found from the .pc's own place, so that
# `cmake --install --prefix` anywhere gives a working file.
file(RELATIVE_PATH FUSEKIT_PC_TO_PREFIX /p/${CMAKE_INSTALL_LIBDIR}/pkgconfig /p)
configure_file(cmake/fusekit.pc.in ${CMAKE_CURRENT_BINARY_DIR}/fusekit.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/fusekit.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

install(TARGETS passthroughfs RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(FILES man/passthroughfs.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES man/fusekit.3 DESTINATION ${CMAKE_INSTALL_MANDIR}/man3)
install(DIRECTORY examples/minimal examples/consumer
  DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
