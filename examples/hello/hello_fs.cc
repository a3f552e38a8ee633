#include "hello_fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <chrono>
#include <iterator>

namespace examples {
namespace {

using fusekit::Attr;
using fusekit::kRootNode;
using fusekit::NodeId;

constexpr NodeId kHelloNode{2};
constexpr fusekit::Timeout kTimeout = std::chrono::seconds(1);

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
    a.size = HelloFs::kContent.size();
  }
  return a;
}

}  // namespace

void HelloFs::Lookup(const fusekit::Context& ctx, const fusekit::req::Lookup& in,
                     fusekit::ReplyEntry reply) {
  if (ctx.node() != kRootNode || in.name != kName) return reply.Error(ENOENT);
  reply.Ok(fusekit::Entry{kHelloNode, 0, AttrOf(kHelloNode), kTimeout, kTimeout});
}

void HelloFs::GetAttr(const fusekit::Context& ctx, const fusekit::req::GetAttr&,
                      fusekit::ReplyAttr reply) {
  if (ctx.node() != kRootNode && ctx.node() != kHelloNode) return reply.Error(ENOENT);
  reply.Ok(AttrOf(ctx.node()), kTimeout);
}

void HelloFs::OpenDir(const fusekit::Context&, const fusekit::req::OpenDir&,
                      fusekit::ReplyOpen reply) {
  reply.Ok(fusekit::FileHandle(0));
}

void HelloFs::ReadDir(const fusekit::Context& ctx, const fusekit::req::ReadDir& in,
                      fusekit::ReplyDir reply) {
  if (ctx.node() != kRootNode) return reply.Error(ENOTDIR);
  struct Item {
    std::string_view name;
    NodeId node;
    uint32_t type;
  };
  const Item items[] = {
      {".", kRootNode, S_IFDIR}, {"..", kRootNode, S_IFDIR}, {kName, kHelloNode, S_IFREG}};
  for (uint64_t i = in.offset; i < std::size(items); ++i) {
    if (!reply.Add(items[i].name, items[i].node.value, items[i].type, i + 1)) break;
  }
  reply.Ok();
}

void HelloFs::Open(const fusekit::Context& ctx, const fusekit::req::Open& in,
                   fusekit::ReplyOpen reply) {
  if (ctx.node() != kHelloNode) return reply.Error(EISDIR);
  if ((in.flags & O_ACCMODE) != O_RDONLY) return reply.Error(EACCES);
  reply.Ok(fusekit::FileHandle(0), fusekit::OpenOptions{.keep_cache = true});
}

void HelloFs::Read(const fusekit::Context&, const fusekit::req::Read& in,
                   fusekit::ReplyData reply) {
  if (in.offset >= kContent.size()) return reply.Ok(std::string_view());
  reply.Ok(kContent.substr(in.offset, in.size));
}

void HelloFs::StatFs(const fusekit::Context&, const fusekit::req::StatFs&,
                     fusekit::ReplyStatfs reply) {
  struct statvfs st {};
  st.f_bsize = st.f_frsize = 4096;
  st.f_namemax = 255;
  reply.Ok(st);
}

}  // namespace examples
