// PermSpec: bindfs's permission specification (-o perms=, and later
// create-with-perms= and chmod-filter=), a chmod(1)-like list applied in
// order to the permission bits a file shows:
//   0644            octal: sets the nine permission bits
//   og-x,u=rwX      [ugoa][df] then one or more op ([-+=]) and rights
// Rights: r w x; X (execute where it is a directory or has an x bit); D
// (execute for directories only); u g o (copy that class's bits). X, D
// and u g o look at the file's own mode, not at what earlier items made of
// it (as bindfs does): 0644,a+X gives executables 0755.
// Who d / f: the directive applies to directories / non-directories only.
// No who means all. Items are separated by ',' or ':' (fstab lines keep
// ',' for their own options). setuid, setgid and sticky bits are left as
// they are.
//
// Thread-safety: an immutable value once parsed.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace passthroughfs {

class PermSpec {
 public:
  // An empty spec changes nothing. On a syntax error, returns false with
  // `error` naming the item and what is wrong.
  static bool Parse(std::string_view text, PermSpec& out, std::string& error);

  // The mode (type bits included) with the permission bits the spec gives.
  mode_t Apply(mode_t mode) const;
  bool empty() const { return directives_.empty(); }

 private:
  struct Octal {
    mode_t bits;
  };
  struct Symbolic {
    mode_t who;          // the bits of the classes it changes (0777 for all)
    bool dirs = true;    // applies to directories
    bool files = true;   // applies to everything else
    char op;             // '+', '-' or '='
    mode_t rights;       // r/w/x spread over every class
    bool cond_x = false; // X
    bool dir_x = false;  // D
    mode_t copy_from = 0;  // the classes whose bits u, g, o copy
  };
  using Directive = std::variant<Octal, Symbolic>;
  static mode_t ApplyOne(const Directive& d, mode_t original, mode_t mode);

  std::vector<Directive> directives_;
};

}  // namespace passthroughfs
