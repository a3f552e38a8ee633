// hello: a read-only in-memory filesystem with one file, /hello.
//
//   hello [-d] [-o opt,...] MOUNTPOINT
//
// Runs in the foreground until unmounted or sent SIGINT/SIGTERM.
#include <fcntl.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cstring>
#include <string>

#include "fusekit/log.h"
#include "fusekit/operations.h"
#include "fusekit/session.h"

namespace {

using namespace fusekit;  // NOLINT: example code

constexpr std::string_view kContent = "Hello, World!\n";
constexpr NodeId kHelloNode{2};
constexpr Timeout kTimeout = std::chrono::seconds(1);

Attr AttrOf(NodeId node) {
  Attr a;
  a.ino = node.value;
  a.uid = ::getuid();
  a.gid = ::getgid();
  if (node == kRootNode) {
    a.mode = S_IFDIR | 0755;
    a.nlink = 2;
  } else {
    a.mode = S_IFREG | 0444;
    a.nlink = 1;
    a.size = kContent.size();
  }
  return a;
}

class HelloFs : public Operations {
 public:
  void Lookup(const Context& ctx, const req::Lookup& in, ReplyEntry reply) override {
    if (ctx.node() != kRootNode || in.name != "hello") return reply.Error(ENOENT);
    reply.Ok(Entry{kHelloNode, 0, AttrOf(kHelloNode), kTimeout, kTimeout});
  }
  void GetAttr(const Context& ctx, const req::GetAttr&, ReplyAttr reply) override {
    if (ctx.node() != kRootNode && ctx.node() != kHelloNode) return reply.Error(ENOENT);
    reply.Ok(AttrOf(ctx.node()), kTimeout);
  }
  void OpenDir(const Context&, const req::OpenDir&, ReplyOpen reply) override {
    reply.Ok(FileHandle(0));
  }
  void ReadDir(const Context& ctx, const req::ReadDir& in, ReplyDir reply) override {
    if (ctx.node() != kRootNode) return reply.Error(ENOTDIR);
    struct Item { const char* name; NodeId node; uint32_t type; };
    const Item items[] = {{".", kRootNode, S_IFDIR}, {"..", kRootNode, S_IFDIR},
                          {"hello", kHelloNode, S_IFREG}};
    for (uint64_t i = in.offset; i < std::size(items); ++i) {
      if (!reply.Add(items[i].name, items[i].node.value, items[i].type, i + 1)) break;
    }
    reply.Ok();
  }
  void Open(const Context& ctx, const req::Open& in, ReplyOpen reply) override {
    if (ctx.node() != kHelloNode) return reply.Error(EISDIR);
    if ((in.flags & O_ACCMODE) != O_RDONLY) return reply.Error(EACCES);
    reply.Ok(FileHandle(0), OpenOptions{.keep_cache = true});
  }
  void Read(const Context&, const req::Read& in, ReplyData reply) override {
    if (in.offset >= kContent.size()) return reply.Ok(std::string_view());
    reply.Ok(kContent.substr(in.offset, in.size));
  }
  void StatFs(const Context&, const req::StatFs&, ReplyStatfs reply) override {
    struct statvfs st {};
    st.f_bsize = st.f_frsize = 4096;
    st.f_namemax = 255;
    reply.Ok(st);
  }
};

}  // namespace

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

  MountOptions mount_options;
  mount_options.fsname = mount_options.subtype = "hello";
  auto unknown = mount_options.Parse(options);
  if (!unknown) return 2;
  if (!unknown->empty()) {
    std::fprintf(stderr, "hello: unknown option '%s'\n", unknown->front().c_str());
    return 2;
  }
  auto mount = Mount::Create(mountpoint, mount_options);
  if (!mount) return 1;
  HelloFs fs;
  auto session = Session::Create(fs, *mount, Config{.handle_signals = true});
  if (!session) return 1;
  auto status = (*session)->Run();
  return status ? 0 : 1;
}
