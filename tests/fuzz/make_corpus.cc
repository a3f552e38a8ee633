// Writes the decode fuzzer's seed corpus: one well-formed request per opcode,
// richer requests for the opcodes with variable parts, and one of each kind
// of malformed request. Requests are laid out by hand from the ABI structs.
//
//   make_corpus tests/fuzz/corpus
//
// The seeds are committed; rerun this after changing it and commit the
// result. File names are stable, so a rerun rewrites the same files.
#include <fcntl.h>
#include <sys/stat.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fusekit/abi/fuse_abi.h"
#include "fusekit/opcodes.h"
#include "fusekit/testing/harness.h"
#include "fusekit/testing/wire.h"

namespace {

using namespace fusekit::abi;  // NOLINT: wire structs only
using fusekit::testutil::RequestBuilder;

std::vector<std::byte> SupplementaryGroups() {
  std::vector<std::byte> ext;
  fusekit::testutil::AppendStruct(ext, fuse_ext_header{16, FUSE_EXT_GROUPS});
  fusekit::testutil::AppendStruct(ext, fuse_supp_groups{1});
  fusekit::testutil::AppendStruct(ext, uint32_t{27});
  return ext;
}

std::vector<std::byte> Init(uint32_t major, uint32_t minor, uint64_t flags) {
  fuse_init_in in{};
  in.major = major;
  in.minor = minor;
  in.max_readahead = 1 << 17;
  in.flags = static_cast<uint32_t>(flags);
  in.flags2 = static_cast<uint32_t>(flags >> 32);
  return RequestBuilder(FUSE_INIT, 1, 0).Struct(in).Build();
}

struct Seed {
  std::string name;
  std::vector<std::byte> bytes;
};

std::vector<Seed> WellFormed() {
  std::vector<Seed> seeds;
  uint64_t unique = 100;
  for (const auto& layout : fusekit::testutil::kOpcodeLayouts) {
    std::string name = "min-" + std::string(fusekit::OpcodeName(layout.opcode));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    seeds.push_back({name, fusekit::testutil::MinimalRequest(layout, unique++)});
  }

  seeds.push_back({"init-7.45-ext", Init(7, 45,
                                         FUSE_INIT_EXT | FUSE_ASYNC_READ | FUSE_PASSTHROUGH |
                                             FUSE_SETXATTR_EXT | FUSE_MAX_PAGES)});
  seeds.push_back({"init-7.31-short", [] {
                     uint32_t old_init[4] = {7, 31, 65536, 1};
                     return RequestBuilder(FUSE_INIT, 1, 0).Struct(old_init).Build();
                   }()});
  seeds.push_back({"init-major-8", Init(8, 0, 0)});
  seeds.push_back(
      {"lookup-long-name", RequestBuilder(FUSE_LOOKUP, 2, 1).Name(std::string(255, 'n')).Build()});
  seeds.push_back({"lookup-throw", RequestBuilder(FUSE_LOOKUP, 3, 1).Name("throw").Build()});
  seeds.push_back(
      {"create-with-groups",
       RequestBuilder(FUSE_CREATE, 4, 1)
           .Struct(fuse_create_in{O_CREAT | O_WRONLY, S_IFREG | 0644, 022, FUSE_OPEN_KILL_SUIDGID})
           .Name("new-file")
           .Extensions(SupplementaryGroups())
           .Build()});
  seeds.push_back(
      {"write-data", RequestBuilder(FUSE_WRITE, 5, 2)
                         .Struct(fuse_write_in{1, 0, 11, FUSE_WRITE_LOCKOWNER, 9, O_WRONLY, 0})
                         .Bytes("hello world")
                         .Build()});
  seeds.push_back({"read-lockowner",
                   RequestBuilder(FUSE_READ, 6, 2)
                       .Struct(fuse_read_in{1, 4096, 8192, FUSE_READ_LOCKOWNER, 9, O_RDONLY, 0})
                       .Build()});
  seeds.push_back({"setattr-all", [] {
                     fuse_setattr_in in{};
                     in.valid = FATTR_MODE | FATTR_UID | FATTR_GID | FATTR_SIZE | FATTR_ATIME |
                                FATTR_MTIME_NOW | FATTR_FH | FATTR_LOCKOWNER | FATTR_CTIME |
                                FATTR_KILL_SUIDGID;
                     in.size = 4096;
                     in.mode = S_IFREG | 0600;
                     return RequestBuilder(FUSE_SETATTR, 7, 2).Struct(in).Build();
                   }()});
  seeds.push_back(
      {"getattr-fh",
       RequestBuilder(FUSE_GETATTR, 8, 2).Struct(fuse_getattr_in{FUSE_GETATTR_FH, 0, 1}).Build()});
  seeds.push_back({"statx-fh", RequestBuilder(FUSE_STATX, 9, 2)
                                   .Struct(fuse_statx_in{FUSE_GETATTR_FH, 0, 1, 0, 0x7ff})
                                   .Build()});
  seeds.push_back({"setxattr-compat", [] {
                     uint32_t compat[2] = {5, 0};
                     return RequestBuilder(FUSE_SETXATTR, 10, 2)
                         .Struct(compat)
                         .Name("user.key")
                         .Bytes("value")
                         .Build();
                   }()});
  seeds.push_back(
      {"setxattr-ext", RequestBuilder(FUSE_SETXATTR, 11, 2)
                           .Struct(fuse_setxattr_in{5, 0, FUSE_SETXATTR_ACL_KILL_SGID, 0})
                           .Name("user.key")
                           .Bytes("value")
                           .Build()});
  seeds.push_back({"getxattr-size", RequestBuilder(FUSE_GETXATTR, 12, 2)
                                        .Struct(fuse_getxattr_in{64, 0})
                                        .Name("user.key")
                                        .Build()});
  seeds.push_back(
      {"symlink", RequestBuilder(FUSE_SYMLINK, 13, 1).Name("link").Name("../some/target").Build()});
  seeds.push_back({"rename2-exchange", RequestBuilder(FUSE_RENAME2, 14, 1)
                                           .Struct(fuse_rename2_in{1, RENAME_EXCHANGE, 0})
                                           .Name("a")
                                           .Name("b")
                                           .Build()});
  seeds.push_back({"batch-forget-3", RequestBuilder(FUSE_BATCH_FORGET, 15, 0)
                                         .Struct(fuse_batch_forget_in{3, 0})
                                         .Struct(fuse_forget_one{2, 1})
                                         .Struct(fuse_forget_one{3, 2})
                                         .Struct(fuse_forget_one{4, 3})
                                         .Build()});
  seeds.push_back({"removemapping-2", RequestBuilder(FUSE_REMOVEMAPPING, 16, 2)
                                          .Struct(fuse_removemapping_in{2})
                                          .Struct(fuse_removemapping_one{0, 4096})
                                          .Struct(fuse_removemapping_one{8192, 4096})
                                          .Build()});
  seeds.push_back(
      {"ioctl-data", RequestBuilder(FUSE_IOCTL, 17, 2)
                         .Struct(fuse_ioctl_in{1, FUSE_IOCTL_UNRESTRICTED, 0x5401, 0, 4, 4})
                         .Bytes("abcd")
                         .Build()});
  seeds.push_back(
      {"notify-reply-data", RequestBuilder(FUSE_NOTIFY_REPLY, fusekit::testutil::kRetrieveUnique, 2)
                                .Struct(fuse_notify_retrieve_in{0, 4096, 4, 0, 0, 0})
                                .Bytes("page")
                                .Build()});
  seeds.push_back(
      {"readdir-4k",
       RequestBuilder(FUSE_READDIR, 18, 1).Struct(fuse_read_in{2, 0, 4096, 0, 0, 0, 0}).Build()});
  seeds.push_back({"readdirplus-4k", RequestBuilder(FUSE_READDIRPLUS, 19, 1)
                                         .Struct(fuse_read_in{2, 3, 4096, 0, 0, 0, 0})
                                         .Build()});
  seeds.push_back(
      {"readdir-huge-size",
       RequestBuilder(FUSE_READDIR, 20, 1).Struct(fuse_read_in{2, 0, ~0u, 0, 0, 0, 0}).Build()});
  seeds.push_back(
      {"tmpfile-slash", RequestBuilder(FUSE_TMPFILE, 21, 1)
                            .Struct(fuse_create_in{O_RDWR | O_TMPFILE, S_IFREG | 0600, 022, 0})
                            .Name("/")
                            .Build()});
  seeds.push_back({"copy-file-range-64",
                   RequestBuilder(FUSE_COPY_FILE_RANGE_64, 22, 2)
                       .Struct(fuse_copy_file_range_in{1, 0, 3, 2, 0, uint64_t{5} << 30, 0})
                       .Build()});
  seeds.push_back(
      {"interrupt", RequestBuilder(FUSE_INTERRUPT, 23, 0).Struct(fuse_interrupt_in{22}).Build()});
  seeds.push_back(
      {"open-direct",
       RequestBuilder(FUSE_OPEN, 24, 2).Struct(fuse_open_in{O_RDWR | O_DIRECT, 0}).Build()});
  return seeds;
}

std::vector<Seed> Malformed() {
  std::vector<Seed> seeds;
  auto getattr = RequestBuilder(FUSE_GETATTR, 200, 1).Struct(fuse_getattr_in{}).Build();
  seeds.push_back({"bad-short-header", {getattr.begin(), getattr.begin() + 20}});
  auto mismatch = getattr;
  fusekit::testutil::PatchLen(mismatch, static_cast<uint32_t>(mismatch.size() + 8));
  seeds.push_back({"bad-length-mismatch", mismatch});
  auto extlen = RequestBuilder(FUSE_LOOKUP, 201, 1).Name("a").Build();
  fusekit::testutil::PatchExtlen(extlen, 0xffff);
  seeds.push_back({"bad-extlen-too-big", extlen});
  seeds.push_back({"bad-unknown-opcode-7", RequestBuilder(7, 202).Build()});
  seeds.push_back({"bad-unknown-opcode-4096", RequestBuilder(CUSE_INIT, 203).Build()});
  seeds.push_back({"bad-short-struct",
                   RequestBuilder(FUSE_SETATTR, 204, 1).Bytes(std::vector<std::byte>(40)).Build()});
  seeds.push_back(
      {"bad-name-without-nul",
       RequestBuilder(FUSE_RENAME, 205, 1).Struct(fuse_rename_in{1}).Name("a").Bytes("b").Build()});
  seeds.push_back({"bad-write-size", RequestBuilder(FUSE_WRITE, 206, 2)
                                         .Struct(fuse_write_in{1, 0, 1000, 0, 0, 0, 0})
                                         .Bytes("short")
                                         .Build()});
  seeds.push_back({"bad-batch-forget-count", RequestBuilder(FUSE_BATCH_FORGET, 207, 0)
                                                 .Struct(fuse_batch_forget_in{~0u, 0})
                                                 .Struct(fuse_forget_one{2, 1})
                                                 .Build()});
  seeds.push_back(
      {"bad-removemapping-count",
       RequestBuilder(FUSE_REMOVEMAPPING, 208, 2).Struct(fuse_removemapping_in{~0u}).Build()});
  seeds.push_back({"bad-unique-zero", RequestBuilder(FUSE_LOOKUP, 0, 1).Bytes("x").Build()});
  return seeds;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  std::filesystem::path dir(argv[1]);
  std::filesystem::create_directories(dir);
  int written = 0;
  for (const auto& group : {WellFormed(), Malformed()}) {
    for (const Seed& seed : group) {
      std::ofstream out(dir / seed.name, std::ios::binary | std::ios::trunc);
      out.write(reinterpret_cast<const char*>(seed.bytes.data()),
                static_cast<std::streamsize>(seed.bytes.size()));
      if (!out) {
        std::fprintf(stderr, "cannot write %s\n", (dir / seed.name).c_str());
        return 1;
      }
      ++written;
    }
  }
  std::printf("wrote %d seeds to %s\n", written, dir.c_str());
  return 0;
}
