// passthroughfs: mirrors SOURCE at MOUNTPOINT; see README.md.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "fusekit/log.h"
#include "fusekit/session.h"
#include "layers.h"
#include "options.h"
#include "passthrough_fs.h"
#include "remount.h"
#include "stats_command.h"

namespace {

using passthroughfs::CommandLine;

// Forks once the mount exists. The parent waits for the child's verdict
// (one byte, written once INIT settled, or nothing if the child died
// first) and leaves with it as its exit code, so that the command returns
// only once the mount is ready, and fails if it never gets there. The
// child keeps the caller's stdout/stderr until then, so that its errors
// reach the caller; DetachStdio() drops them. Returns -1 in the child.
int DaemonizeAndWait(int& report_fd) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    std::fprintf(stderr, "passthroughfs: pipe: %s\n", std::strerror(errno));
    return 1;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    std::fprintf(stderr, "passthroughfs: fork: %s\n", std::strerror(errno));
    return 1;
  }
  if (pid > 0) {
    ::close(pipe_fds[1]);
    unsigned char verdict = 1;
    ssize_t n;
    do {
      n = ::read(pipe_fds[0], &verdict, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1) verdict = 1;
    ::_exit(verdict);
  }
  ::close(pipe_fds[0]);
  report_fd = pipe_fds[1];
  ::setsid();
  if (::chdir("/") != 0) return 1;
  return -1;
}

// Every inode the kernel remembers holds an O_PATH fd in the daemon (until
// FORGET), and every open file one more: with the usual soft limit of 1024
// a mount would fail lookups and opens with EMFILE after ~1000 remembered
// names. Raise the soft RLIMIT_NOFILE to the hard limit, as libfuse's
// passthrough_hp does. (Nothing here uses select(), so fds past 1024 are
// fine.) Failing to raise it is not fatal: the mount works, just smaller.
void RaiseFdLimit() {
  struct rlimit limit;
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    std::fprintf(stderr, "passthroughfs: warning: cannot raise RLIMIT_NOFILE: %s\n",
                 std::strerror(errno));
  }
}

void DetachStdio() {
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) return;
  ::dup2(null, STDIN_FILENO);
  ::dup2(null, STDOUT_FILENO);
  ::dup2(null, STDERR_FILENO);
  ::close(null);
}

// For the startup message, with -o io_uring: whether INIT settled on it,
// and why not.
std::string TransportStatus(bool asked, const fusekit::ConnectionInfo& info) {
  if (!asked) return "";
  if (info.io_uring()) return "; io_uring transport on";
  if (!(info.kernel_flags & fusekit::cap::kOverIoUring)) {
    return "; io_uring transport off: the kernel does not offer it "
           "(/sys/module/fuse/parameters/enable_uring is N)";
  }
  return "; io_uring transport off: io_uring could not be set up (see the log)";
}

void Report(int& report_fd, unsigned char verdict) {
  if (report_fd < 0) return;
  (void)!::write(report_fd, &verdict, 1);
  ::close(report_fd);
  report_fd = -1;
}

}  // namespace

int main(int argc, char** argv) {
  // A subcommand, not a mount (a SOURCE named "stats" is written ./stats).
  if (argc >= 2 && std::string_view(argv[1]) == "stats")
    return passthroughfs::StatsCommand(argc - 1, argv + 1);
  auto parsed = passthroughfs::ParseCommandLine(argc, argv);
  if (parsed.exit_code >= 0) return parsed.exit_code;
  CommandLine& cl = parsed.command_line;
  fusekit::ConfigureLogging(cl.debug, cl.foreground);
  if (cl.remount) return passthroughfs::Remount(cl);

  if (auto error = passthroughfs::CheckPaths(cl); !error.empty()) {
    std::fprintf(stderr, "passthroughfs: %s\n", error.c_str());
    return 2;
  }
  // From here until Session::Run takes them through its signalfd, SIGINT,
  // SIGTERM and SIGHUP stay pending instead of killing the process between
  // mount(2) and the session, which would leave a dead mount behind.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&stop_signals, s);
  ::sigprocmask(SIG_BLOCK, &stop_signals, nullptr);

  RaiseFdLimit();

  fusekit::UniqueFd source(::open(cl.source.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!source) {
    std::fprintf(stderr, "passthroughfs: SOURCE %s: %s\n", cl.source.c_str(), std::strerror(errno));
    return 2;
  }
  auto fs = passthroughfs::PassthroughFs::Create(std::move(source), cl.fs);
  if (!fs) {
    std::fprintf(stderr, "passthroughfs: SOURCE %s: %s\n", cl.source.c_str(),
                 fs.error().message().c_str());
    return 2;
  }
  fusekit::Config config = (*fs)->SessionConfig();
  config.handle_signals = true;
  // -o audit=: a bad path fails the command before anything is mounted.
  if (!cl.fs.audit_path.empty()) {
    fusekit::UniqueFd probe(
        ::open(cl.fs.audit_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
    if (!probe) {
      std::fprintf(stderr, "passthroughfs: -o audit=%s: %s\n", cl.fs.audit_path.c_str(),
                   std::strerror(errno));
      return 2;
    }
  }

  auto mount = fusekit::Mount::Create(cl.mountpoint, cl.mount);
  if (!mount) return 1;  // Mount::Create logged the path and errno

  int report_fd = -1;
  if (!cl.foreground) {
    int code = DaemonizeAndWait(report_fd);
    if (code >= 0) return code;  // the parent's verdict, or fork failed (the mount unmounts)
  }
  // After the fork: the audit trail's writer thread must run in the daemon.
  auto layers = passthroughfs::Layers::Stack(**fs, cl.fs, config);
  if (!layers) return 1;  // Stack logged the path and errno
  auto session = fusekit::Session::Create((*layers)->top(), *mount, config);
  if (!session) {
    std::fprintf(stderr, "passthroughfs: %s\n", session.error().message().c_str());
    return 1;
  }
  bool init_ok = true;
  fusekit::Session* s = session->get();
  (*fs)->set_on_init([&](bool ok, const std::string& status) {
    init_ok = ok;
    if (cl.foreground) {
      std::fprintf(stderr, "passthroughfs: %s on %s: %s%s\n", cl.source.c_str(),
                   cl.mountpoint.c_str(), status.c_str(),
                   TransportStatus(config.io_uring, s->connection()).c_str());
    }
    if (!ok) {
      std::fprintf(stderr, "passthroughfs: -o passthrough=always, but %s\n", status.c_str());
      s->Stop();
    }
    if (report_fd >= 0) {
      // The caller may read our stdout/stderr until EOF: let go of them
      // before it is told to go on.
      if (ok) DetachStdio();
      Report(report_fd, ok ? 0 : 1);
    }
  });
  auto status = s->Run();
  if (!status) {
    std::fprintf(stderr, "passthroughfs: %s\n", status.error().message().c_str());
    return 1;
  }
  return init_ok ? 0 : 1;
}
