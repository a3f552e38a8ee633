#include "fusekit/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace fusekit {

void ConfigureLogging(bool debug, bool verbose) {
  // stderr keeps stdout free for the filesystem's own output.
  static auto logger = [] {
    auto l = spdlog::stderr_color_mt("fusekit");
    l->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ [%t] %v");
    spdlog::set_default_logger(l);
    return l;
  }();
  (void)logger;
  spdlog::set_level(debug ? spdlog::level::debug
                          : verbose ? spdlog::level::info : spdlog::level::warn);
}

}  // namespace fusekit
