// passthrough_file: mirrors the regular files of SOURCE at MOUNTPOINT, their
// I/O going straight to the source files through kernel passthrough.
//
//   passthrough_file [-d] [--no-passthrough] [--direct-io] [-o opt,...] SOURCE MOUNTPOINT
#include <fcntl.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "fusekit/log.h"
#include "fusekit/session.h"
#include "passthrough_file_fs.h"

int main(int argc, char** argv) {
  CLI::App app("passthrough_file: one directory's files served through FUSE passthrough");
  std::string source, mountpoint, options;
  bool debug = false, no_passthrough = false, direct_io = false, foreground = true;
  app.add_option("SOURCE", source, "directory whose regular files are mirrored")->required();
  app.add_option("MOUNTPOINT", mountpoint, "where to mount")->required();
  app.add_option("-o", options, "mount options (allow_other, fsname=..., ...)");
  app.add_flag("-d,--debug", debug, "print every request and reply");
  app.add_flag("-f,--foreground", foreground, "accepted; always runs in the foreground");
  app.add_flag("--no-passthrough", no_passthrough, "serve all I/O in the daemon");
  app.add_flag("--direct-io", direct_io, "read/write through the daemon, mmap through passthrough");
  CLI11_PARSE(app, argc, argv);
  fusekit::ConfigureLogging(debug);

  fusekit::UniqueFd source_dir(::open(source.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!source_dir) {
    std::fprintf(stderr, "passthrough_file: %s: %s\n", source.c_str(), std::strerror(errno));
    return 2;
  }
  fusekit::MountOptions mount_options;
  mount_options.fsname = source;
  mount_options.subtype = "passthrough_file";
  auto unknown = mount_options.Parse(options);
  if (!unknown) return 2;
  if (!unknown->empty()) {
    std::fprintf(stderr, "passthrough_file: unknown option '%s'\n", unknown->front().c_str());
    return 2;
  }
  auto mount = fusekit::Mount::Create(mountpoint, mount_options);
  if (!mount) return 1;

  examples::PassthroughFileFs fs(std::move(source_dir),
                                 {.passthrough = !no_passthrough, .direct_io = direct_io, .announce = true});
  fusekit::Config config;
  config.handle_signals = true;
  if (!no_passthrough) config.want |= fusekit::cap::kPassthrough;
  if (direct_io) config.want |= fusekit::cap::kDirectIoAllowMmap;
  auto session = fusekit::Session::Create(fs, *mount, config);
  if (!session) return 1;
  auto status = (*session)->Run();
  return status ? 0 : 1;
}
