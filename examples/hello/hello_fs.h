// HelloFs: a read-only in-memory filesystem with one file, /hello.
//
// Shared by the hello example and the integration tests, which serve it
// in-process.
#pragma once

#include <string_view>

#include "fusekit/operations.h"

namespace examples {

// Thread-safety: stateless; every method may be called concurrently.
class HelloFs : public fusekit::Operations {
 public:
  static constexpr std::string_view kName = "hello";
  static constexpr std::string_view kContent = "Hello, World!\n";

  void Lookup(const fusekit::Context& ctx, const fusekit::req::Lookup& in,
              fusekit::ReplyEntry reply) override;
  void GetAttr(const fusekit::Context& ctx, const fusekit::req::GetAttr& in,
               fusekit::ReplyAttr reply) override;
  void OpenDir(const fusekit::Context& ctx, const fusekit::req::OpenDir& in,
               fusekit::ReplyOpen reply) override;
  void ReadDir(const fusekit::Context& ctx, const fusekit::req::ReadDir& in,
               fusekit::ReplyDir reply) override;
  void Open(const fusekit::Context& ctx, const fusekit::req::Open& in,
            fusekit::ReplyOpen reply) override;
  void Read(const fusekit::Context& ctx, const fusekit::req::Read& in,
            fusekit::ReplyData reply) override;
  void StatFs(const fusekit::Context& ctx, const fusekit::req::StatFs& in,
              fusekit::ReplyStatfs reply) override;
};

}  // namespace examples
