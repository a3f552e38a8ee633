// Readable one-line forms of requests and replies for -d output.
#pragma once

#include <sys/uio.h>

#include <span>
#include <string>

#include "fusekit/proto/decode.h"

namespace fusekit::proto {

// "unique 7 LOOKUP node 1 uid 0 pid 42: name=\"foo\""
std::string DescribeRequest(const Request& request);
// "unique 7 LOOKUP -> ok, 144 bytes" or "unique 7 LOOKUP -> ENOENT"
std::string DescribeReply(RequestId unique, Opcode opcode, int error,
                          std::span<const iovec> payload);

}  // namespace fusekit::proto
