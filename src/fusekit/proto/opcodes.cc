#include "fusekit/opcodes.h"

namespace fusekit {

std::string_view OpcodeName(uint32_t opcode) {
  switch (opcode) {
#define FUSEKIT_OPCODE_NAME(name, number, type) \
  case number:                                  \
    return #name;
    FUSEKIT_FOR_EACH_OPCODE(FUSEKIT_OPCODE_NAME)
#undef FUSEKIT_OPCODE_NAME
    default:
      return "UNKNOWN";
  }
}

bool IsKnownOpcode(uint32_t opcode) { return OpcodeName(opcode) != "UNKNOWN"; }

}  // namespace fusekit
