// hello: a read-only in-memory filesystem with one file, /hello.
//
//   hello [-d] [-o opt,...] MOUNTPOINT
//
// Runs in the foreground until unmounted or sent SIGINT/SIGTERM/SIGHUP.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "fusekit/log.h"
#include "fusekit/session.h"
#include "hello_fs.h"

using namespace fusekit;  // NOLINT: example code

int main(int argc, char** argv) {
  CLI::App app("hello: a read-only in-memory FUSE filesystem with one file");
  std::string mountpoint;
  std::string options;
  bool debug = false;
  bool foreground = true;
  app.add_option("MOUNTPOINT", mountpoint, "where to mount")->required();
  app.add_option("-o", options, "mount options (allow_other, fsname=..., ...)");
  app.add_flag("-d,--debug", debug, "print every request and reply");
  app.add_flag("-f,--foreground", foreground, "accepted for compatibility; hello always runs in the foreground");
  CLI11_PARSE(app, argc, argv);
  ConfigureLogging(debug);

  // Blocked from before the mount: a SIGINT/SIGTERM that lands between the
  // mount and Run() would otherwise kill the process and leave a dead mount
  // behind. Run()'s signalfd picks up whatever is pending.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&stop_signals, s);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  MountOptions mount_options;
  mount_options.fsname = mount_options.subtype = "hello";
  auto unknown = mount_options.Parse(options);
  if (!unknown) return 2;
  if (!unknown->empty()) {
    std::fprintf(stderr, "hello: unknown option '%s'\n", unknown->front().c_str());
    return 2;
  }
  // auto_unmount is fusermount3's watcher process: mount(2), the automatic
  // method as root, would accept the option and silently ignore it.
  if (mount_options.auto_unmount) mount_options.method = MountOptions::Method::kFusermount;
  auto mount = Mount::Create(mountpoint, mount_options);
  if (!mount) return 1;
  examples::HelloFs fs;
  auto session = Session::Create(fs, *mount, Config{.handle_signals = true});
  if (!session) return 1;
  auto status = (*session)->Run();
  return status ? 0 : 1;
}
