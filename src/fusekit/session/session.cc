#include "fusekit/session.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <sched.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "fusekit/abi/fuse_abi.h"
#include "fusekit/log.h"
#include "fusekit/session/busy_poll.h"
#include "fusekit/session/dispatcher.h"
#include "fusekit/session/shared.h"
#include "fusekit/transport/dev_fuse.h"
#include "fusekit/transport/uring.h"

namespace fusekit {
namespace {

// Workers blocked in read() are woken for Stop() by this signal, whose
// handler does nothing: read then fails with EINTR and the worker sees the
// stop flag.
int WakeSignal() { return SIGRTMIN + 2; }

void InstallWakeHandler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_handler = [](int) {};
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: read must return EINTR
    ::sigaction(WakeSignal(), &sa, nullptr);
  });
}

size_t BufferSize(const Config& config) {
  // A WRITE carries max_write bytes after its headers; one page of room
  // covers fuse_in_header + fuse_write_in.
  size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  return std::max(abi::kMinReadBuffer, size_t{config.max_write} + page);
}

}  // namespace

struct Session::Impl {
  Impl(Operations& ops, Mount& mount, const Config& config)
      : ops(ops),
        config(config),
        shared(std::make_shared<SessionShared>()),
        dispatcher(ops, *shared, *shared->stats),
        unmount(mount.Unmounter()),
        busy_poll(config.busy_poll) {
    shared->device = mount.device();
  }

  Status Run();
  void Stop();
  void Worker(std::shared_ptr<transport::DevFuseChannel> channel);
  void ServeDevice(transport::DevFuseChannel& channel, const std::shared_ptr<ReplySink>& sink);
  bool SpinForRequest(std::vector<std::byte>& buffer);
  void OpenPollChannel();
  void RingWorker(std::shared_ptr<transport::UringQueue> queue);
  Status CreateQueues();
  std::shared_ptr<transport::DevFuseChannel> NewChannel(unsigned worker);
  Status ReceiveInit(transport::DevFuseChannel& channel, const Config& init_config);
  void WorkerDone();
  void Wake();

  Operations& ops;
  Config config;
  std::shared_ptr<SessionShared> shared;
  Dispatcher dispatcher;
  std::function<void()> unmount;

  std::atomic<bool> stopping{false};
  // Wakes Run's thread: written by the last worker to exit and by Stop.
  UniqueFd wake_event{::eventfd(0, EFD_CLOEXEC)};
  std::vector<std::thread> threads;  // touched by Run's thread only
  // One per CPU with Config::io_uring; touched by Run's thread only.
  std::vector<std::shared_ptr<transport::UringQueue>> queues;
  std::atomic<unsigned> running{0};
  BusyPoll busy_poll;
  // A non-blocking clone of the device, read by the worker that holds
  // busy_poll's token; null when busy polling is off.
  std::shared_ptr<transport::DevFuseChannel> poll_channel;
};

Status Session::Impl::ReceiveInit(transport::DevFuseChannel& channel,
                                  const Config& init_config) {
  std::vector<std::byte> buffer(BufferSize(config));
  for (;;) {
    auto n = channel.Receive(buffer);
    if (!n) {
      int e = n.error().value();
      if (e == EINTR || e == EAGAIN || e == ENOENT) {
        if (stopping) return Fail(ECANCELED);
        continue;
      }
      // ENODEV: unmounted before the kernel sent INIT (an umount right
      // after the mount appeared): the mount's end, not a failure.
      if (n.error() == Errno(ENODEV)) {
        LogInfo("the mount went away before INIT");
        return Fail(ENODEV);
      }
      LogError("reading INIT from /dev/fuse failed: {}", n.error().message());
      return Fail(n.error());
    }
    auto status = dispatcher.HandleInit({buffer.data(), *n}, channel, init_config);
    if (status || status.error() != Errno(EAGAIN)) return status;
  }
}

void Session::Impl::Worker(std::shared_ptr<transport::DevFuseChannel> channel) {
  ServeDevice(*channel, channel);
  WorkerDone();
}

void Session::Impl::ServeDevice(transport::DevFuseChannel& channel,
                                const std::shared_ptr<ReplySink>& sink) {
  std::vector<std::byte> buffer(BufferSize(config));
  while (!stopping.load(std::memory_order_relaxed)) {
    if (poll_channel && busy_poll.TryBegin() && SpinForRequest(buffer)) continue;
    auto n = channel.Receive(buffer);
    if (!n) {
      int e = n.error().value();
      if (e == EINTR || e == EAGAIN || e == ENOENT) continue;
      if (e != ENODEV) LogError("reading from /dev/fuse failed: {}", n.error().message());
      break;  // ENODEV: unmounted
    }
    if (poll_channel) busy_poll.NoteRequest(static_cast<int64_t>(Stats::Now()));
    dispatcher.Handle({buffer.data(), *n}, sink);
  }
}

// Holds busy_poll's token: reads the non-blocking channel until a request
// comes (served here; true) or the window passes (false). Errors other than
// "nothing yet" end the spin: the blocking read then sees them too.
bool Session::Impl::SpinForRequest(std::vector<std::byte>& buffer) {
  const int64_t deadline = static_cast<int64_t>(Stats::Now()) + busy_poll.window().count();
  for (;;) {
    auto n = poll_channel->Receive(buffer);
    if (n) {
      busy_poll.End(/*caught=*/true);
      shared->stats->AddSpin(true);
      busy_poll.NoteRequest(static_cast<int64_t>(Stats::Now()));
      dispatcher.Handle({buffer.data(), *n}, poll_channel);
      return true;
    }
    int e = n.error().value();
    bool nothing_yet = e == EAGAIN || e == EINTR || e == ENOENT;
    if (!nothing_yet || static_cast<int64_t>(Stats::Now()) >= deadline || stopping.load(std::memory_order_relaxed))
      break;
  }
  busy_poll.End(/*caught=*/false);
  shared->stats->AddSpin(false);
  return false;
}

void Session::Impl::OpenPollChannel() {
  auto clone = transport::CloneDevice(shared->device->get());
  if (clone) {
    int flags = ::fcntl(clone->get(), F_GETFL);
    if (flags >= 0 && ::fcntl(clone->get(), F_SETFL, flags | O_NONBLOCK) == 0) {
      poll_channel = std::make_shared<transport::DevFuseChannel>(
          std::make_shared<const UniqueFd>(std::move(*clone)));
      poll_channel->CountIn(shared->stats);
      return;
    }
    clone = FailLast();
  }
  LogWarn("busy polling off: cannot make a non-blocking clone of /dev/fuse ({})",
          clone.error().message());
}

std::shared_ptr<transport::DevFuseChannel> Session::Impl::NewChannel(unsigned worker) {
  if (config.clone_fd) {
    auto clone = transport::CloneDevice(shared->device->get());
    if (clone) {
      auto channel = std::make_shared<transport::DevFuseChannel>(
          std::make_shared<const UniqueFd>(std::move(*clone)));
      channel->CountIn(shared->stats);
      return channel;
    }
    LogWarn("FUSE_DEV_IOC_CLONE failed ({}); worker {} shares the mount's fd",
            clone.error().message(), worker);
  }
  auto channel = std::make_shared<transport::DevFuseChannel>(shared->device);
  channel->CountIn(shared->stats);
  return channel;
}

// Made before INIT is answered, so that io_uring is asked for only when it
// can be served: once granted, the kernel holds every new request until
// each CPU's queue has registered an entry.
Status Session::Impl::CreateQueues() {
  unsigned cpus = transport::PossibleCpus();
  for (unsigned qid = 0; qid < cpus; ++qid) {
    auto queue = transport::UringQueue::Create(shared->device, qid, std::max(1u, config.io_uring_depth),
                                               BufferSize(config));
    if (!queue) {
      queues.clear();
      return Fail(queue.error());
    }
    (*queue)->CountIn(shared->stats);
    queues.push_back(std::move(*queue));
  }
  return Ok();
}

void Session::Impl::RingWorker(std::shared_ptr<transport::UringQueue> queue) {
  unsigned qid = queue->qid();
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  CPU_SET(qid, &cpus);
  if (int e = pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus); e != 0) {
    LogWarn("io_uring queue {}: cannot pin its thread to CPU {} ({}); it runs unpinned", qid,
            qid, std::strerror(e));
  }
  auto status = queue->Serve(
      [this](std::span<const std::byte> bytes, const std::shared_ptr<ReplySink>& sink) {
        abi::fuse_in_header in;
        std::memcpy(&in, bytes.data(), sizeof(in));
        shared->stats->AddIoUring(in.opcode);
        dispatcher.Handle(bytes, sink);
      },
      stopping);
  if (!status && !stopping) {
    // The kernel then went back to /dev/fuse (fs/fuse/dev_uring.c clears
    // fc->io_uring on a failed REGISTER): serve it with this thread.
    LogWarn("io_uring queue {}: the kernel refused its entries ({}); serving over /dev/fuse", qid,
            status.error().message());
    queue.reset();
    auto channel = NewChannel(qid + 1);
    ServeDevice(*channel, channel);
  }
  WorkerDone();
}

void Session::Impl::WorkerDone() {
  if (running.fetch_sub(1) == 1) Wake();
}

void Session::Impl::Wake() {
  uint64_t one = 1;
  (void)!::write(wake_event.get(), &one, sizeof(one));
}

Status Session::Impl::Run() {
  sigset_t old_mask;
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  UniqueFd signal_fd;
  if (config.handle_signals) {
    for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&stop_signals, s);
    // Blocked here, so workers inherit the mask and only signalfd sees them.
    pthread_sigmask(SIG_BLOCK, &stop_signals, &old_mask);
    signal_fd.reset(::signalfd(-1, &stop_signals, SFD_CLOEXEC));
  }
  InstallWakeHandler();

  // Never ask for io_uring without queues to serve it: the kernel would
  // hold every request until they register.
  Config init_config = config;
  init_config.want &= ~cap::kOverIoUring;
  if (config.io_uring) {
    if (auto created = CreateQueues(); created) {
      init_config.want |= cap::kOverIoUring;
    } else {
      LogWarn("io_uring transport off: cannot create io_uring queues ({}); serving over /dev/fuse",
              created.error().message());
    }
  }

  auto main_channel = std::make_shared<transport::DevFuseChannel>(shared->device);
  main_channel->CountIn(shared->stats);
  auto status = ReceiveInit(*main_channel, init_config);
  if (!status) {
    queues.clear();
    if (config.handle_signals) pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    if (status.error() == Errno(ENODEV)) return Ok();
    return status;
  }
  if (!queues.empty() && !shared->connection.io_uring()) {
    LogWarn("io_uring transport off: the kernel does not offer it "
            "(/sys/module/fuse/parameters/enable_uring is not Y); serving over /dev/fuse");
    queues.clear();
  }

  // Over io_uring, /dev/fuse carries only FORGET, BATCH_FORGET and
  // INTERRUPT: one worker is enough.
  unsigned n = queues.empty() ? std::max(1u, config.threads) : 1;
  if (queues.empty() && busy_poll.enabled()) OpenPollChannel();
  running = n + static_cast<unsigned>(queues.size());
  for (unsigned i = 0; i < n; ++i) {
    auto channel = i == 0 ? main_channel : NewChannel(i);
    threads.emplace_back([this, channel] { Worker(channel); });
  }
  for (auto& queue : queues) threads.emplace_back([this, queue] { RingWorker(queue); });

  pollfd fds[2] = {{wake_event.get(), POLLIN, 0}, {signal_fd.get(), POLLIN, 0}};
  while (running.load() > 0) {
    // Once stopping, workers blocked in read() are woken by WakeSignal()
    // every 20 ms: a signal that lands just before read() is entered is lost.
    int r = ::poll(fds, signal_fd ? 2 : 1, stopping ? 20 : -1);
    if (r < 0 && errno != EINTR) break;
    if (fds[0].revents & POLLIN) {
      uint64_t count;
      (void)!::read(wake_event.get(), &count, sizeof(count));
    }
    if (signal_fd && (fds[1].revents & POLLIN)) {
      signalfd_siginfo info{};
      (void)!::read(signal_fd.get(), &info, sizeof(info));
      if (info.ssi_signo == SIGHUP && config.on_hangup) {
        config.on_hangup();
      } else {
        LogInfo("{}: unmounting", strsignal(static_cast<int>(info.ssi_signo)));
        Stop();
      }
    }
    if (stopping) {
      for (auto& t : threads) pthread_kill(t.native_handle(), WakeSignal());
      for (auto& q : queues) q->Wake();
    }
  }
  for (auto& t : threads) t.join();
  threads.clear();
  queues.clear();
  if (!dispatcher.destroyed()) ops.Destroy();
  if (config.handle_signals) pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  return Ok();
}

void Session::Impl::Stop() {
  if (stopping.exchange(true)) return;
  if (unmount) unmount();
  Wake();
}

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

// Run must have returned: a session is not destroyed while it serves.
Session::~Session() = default;

Result<std::unique_ptr<Session>> Session::Create(Operations& ops, Mount& mount,
                                                 const Config& config) {
  if (!mount.device() || !mount.device()->valid()) return Fail(EBADF);
  auto impl = std::make_unique<Impl>(ops, mount, config);
  if (!impl->wake_event) return FailLast();
  return std::unique_ptr<Session>(new Session(std::move(impl)));
}

Status Session::Run() { return impl_->Run(); }
void Session::Stop() { impl_->Stop(); }
bool Session::ready() const { return impl_->shared->ready.load(); }
const ConnectionInfo& Session::connection() const { return impl_->shared->connection; }
Notifier Session::notifier() const { return Notifier(impl_->shared); }
const Stats& Session::stats() const { return *impl_->shared->stats; }
const std::shared_ptr<const UniqueFd>& Session::device() const { return impl_->shared->device; }

}  // namespace fusekit
