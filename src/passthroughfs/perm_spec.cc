#include "perm_spec.h"

#include <sys/stat.h>

namespace passthroughfs {

namespace {

constexpr mode_t kPermBits = 0777;

// The bits of class `c` ('u', 'g' or 'o'), or 0.
mode_t ClassBits(char c) {
  switch (c) {
    case 'u': return 0700;
    case 'g': return 0070;
    case 'o': return 0007;
    case 'a': return 0777;
  }
  return 0;
}

// The rwx bits of the classes in `from`, each copied into every class.
mode_t Spread(mode_t mode, mode_t from) {
  mode_t rwx = 0;
  if (from & 0700) rwx |= (mode >> 6) & 7;
  if (from & 0070) rwx |= (mode >> 3) & 7;
  if (from & 0007) rwx |= mode & 7;
  return rwx * 0111;
}

}  // namespace

bool PermSpec::Parse(std::string_view text, PermSpec& out, std::string& error) {
  out.directives_.clear();
  if (text.empty()) return true;
  std::vector<std::string_view> items;
  for (size_t start = 0;;) {
    size_t end = text.find_first_of(",:", start);
    items.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  for (std::string_view item : items) {
    auto bad = [&](const std::string& why) {
      error = "'" + std::string(item) + "': " + why;
      return false;
    };
    if (item.empty()) return bad("empty item");
    if (item[0] >= '0' && item[0] <= '7') {
      mode_t bits = 0;
      for (char c : item) {
        if (c < '0' || c > '7') return bad("not an octal number");
        bits = bits * 8 + static_cast<mode_t>(c - '0');
        if (bits > 0777) return bad("octal above 0777 (setuid, setgid and sticky stay as they are)");
      }
      out.directives_.push_back(Octal{bits & kPermBits});
      continue;
    }
    size_t i = 0;
    mode_t who = 0;
    bool dirs_only = false, files_only = false;
    for (; i < item.size() && std::string_view("ugoadf").find(item[i]) != std::string_view::npos;
         ++i) {
      if (item[i] == 'd') dirs_only = true;
      else if (item[i] == 'f') files_only = true;
      else who |= ClassBits(item[i]);
    }
    if (dirs_only && files_only) return bad("both d and f");
    if (who == 0) who = kPermBits;
    if (i == item.size()) return bad("no operator (-, + or =)");
    while (i < item.size()) {
      char op = item[i++];
      if (op != '+' && op != '-' && op != '=') return bad(std::string("unexpected '") + op + "'");
      Symbolic s{.who = who, .dirs = !files_only, .files = !dirs_only, .op = op, .rights = 0};
      for (; i < item.size() && item[i] != '+' && item[i] != '-' && item[i] != '='; ++i) {
        switch (item[i]) {
          case 'r': s.rights |= 0444; break;
          case 'w': s.rights |= 0222; break;
          case 'x': s.rights |= 0111; break;
          case 'X': s.cond_x = true; break;
          case 'D': s.dir_x = true; break;
          case 's': case 't': break;  // accepted, as bindfs does; special bits stay
          case 'u': case 'g': case 'o': s.copy_from |= ClassBits(item[i]); break;
          default: return bad(std::string("unknown right '") + item[i] + "'");
        }
      }
      out.directives_.push_back(s);
    }
  }
  return true;
}

mode_t PermSpec::ApplyOne(const Directive& d, mode_t original, mode_t mode) {
  if (const auto* octal = std::get_if<Octal>(&d)) return (mode & ~kPermBits) | octal->bits;
  const auto& s = std::get<Symbolic>(d);
  bool dir = S_ISDIR(mode);
  if ((dir && !s.dirs) || (!dir && !s.files)) return mode;
  mode_t rights = s.rights | Spread(original, s.copy_from);
  if ((s.cond_x && (dir || (original & 0111))) || (s.dir_x && dir)) rights |= 0111;
  rights &= s.who;
  switch (s.op) {
    case '+': return mode | rights;
    case '-': return mode & ~rights;
    default: return (mode & ~s.who) | rights;
  }
}

mode_t PermSpec::Apply(mode_t mode) const {
  mode_t shown = mode;
  for (const auto& d : directives_) shown = ApplyOne(d, mode, shown);
  return shown;
}

}  // namespace passthroughfs
