// The README's example: a filesystem with one read-only file, /greeting.
#include <sys/stat.h>

#include "fusekit/session.h"

using namespace fusekit;

struct Greeting : Operations {
  static constexpr std::string_view kText = "hi from fusekit\n";
  static Attr AttrOf(NodeId n) {
    Attr a{.ino = n.value, .size = n == kRootNode ? 0 : kText.size()};
    a.mode = n == kRootNode ? S_IFDIR | 0755 : S_IFREG | 0444;
    a.nlink = 1;
    return a;
  }
  void Lookup(const Context& ctx, const req::Lookup& in, ReplyEntry r) override {
    if (ctx.node() != kRootNode || in.name != "greeting") return r.Error(ENOENT);
    r.Ok({.node = NodeId(2), .attr = AttrOf(NodeId(2)), .entry_timeout = std::chrono::seconds(1)});
  }
  void GetAttr(const Context& ctx, const req::GetAttr&, ReplyAttr r) override {
    r.Ok(AttrOf(ctx.node()), std::chrono::seconds(1));
  }
  void Open(const Context&, const req::Open&, ReplyOpen r) override { r.Ok(FileHandle(0)); }
  void Read(const Context&, const req::Read& in, ReplyData r) override {
    r.Ok(kText.substr(std::min<size_t>(in.offset, kText.size()), in.size));
  }
};

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  auto mount = Mount::Create(argv[1], MountOptions{});
  if (!mount) return 1;
  Greeting fs;
  auto session = Session::Create(fs, *mount, Config{.handle_signals = true});
  return session && (*session)->Run() ? 0 : 1;
}
