// Logging for fusekit and the filesystems built on it: spdlog underneath,
// quiet by default (warnings and errors to stderr); SetDebug(true) also
// prints every request and reply.
#pragma once

#include <spdlog/spdlog.h>

#include <utility>

namespace fusekit {

template <typename... Args>
void LogError(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  spdlog::error(fmt, std::forward<Args>(args)...);
}
template <typename... Args>
void LogWarn(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  spdlog::warn(fmt, std::forward<Args>(args)...);
}
template <typename... Args>
void LogInfo(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  spdlog::info(fmt, std::forward<Args>(args)...);
}
template <typename... Args>
void LogDebug(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  spdlog::debug(fmt, std::forward<Args>(args)...);
}

// Sets the process-wide level: debug when `debug`, else `quiet` picks
// warn (the default) or info.
void ConfigureLogging(bool debug, bool verbose = false);
inline bool DebugLogging() { return spdlog::should_log(spdlog::level::debug); }

}  // namespace fusekit
