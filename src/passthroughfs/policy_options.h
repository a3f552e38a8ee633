// The -o items of bindfs's policy options, spelled as bindfs spells them
// (force-user=, perms=, chown-ignore, ...), parsed into PolicyOptions.
#pragma once

#include <string>

#include "policy.h"

namespace passthroughfs {

enum class PolicyItem { kApplied, kBad, kNotPolicy };

// `key` (and `value`, when `has_value`) of one -o item. kBad sets
// `expected` to what the value should be; kNotPolicy leaves everything.
PolicyItem ApplyPolicyOption(const std::string& key, const std::string& value, bool has_value,
                             PolicyOptions& policy, std::string& expected);

}  // namespace passthroughfs
