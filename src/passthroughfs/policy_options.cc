#include "policy_options.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <optional>
#include <sstream>
#include <utility>

namespace passthroughfs {

namespace {

bool ParseNumber(const std::string& text, unsigned& out) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && p == text.data() + text.size();
}

// A user or group by name or number, as bindfs takes them.
bool ParseUser(const std::string& text, uid_t& out) {
  unsigned n;
  if (ParseNumber(text, n)) return out = n, true;
  const passwd* pw = text.empty() ? nullptr : ::getpwnam(text.c_str());
  return pw != nullptr && (out = pw->pw_uid, true);
}

bool ParseGroup(const std::string& text, gid_t& out) {
  unsigned n;
  if (ParseNumber(text, n)) return out = n, true;
  const group* gr = text.empty() ? nullptr : ::getgrnam(text.c_str());
  return gr != nullptr && (out = gr->gr_gid, true);
}

// map=user1/user2:@group1/@group2 (':' between pairs: ',' separates options).
bool ParseMap(const std::string& value, PolicyOptions& policy, std::string& expected) {
  if (value.empty()) return expected = "user1/user2:@group1/@group2", false;
  std::stringstream pairs(value);
  std::string pair;
  while (std::getline(pairs, pair, ':')) {
    auto slash = pair.find('/');
    if (slash == std::string::npos)
      return expected = "from/to pairs, e.g. alice/bob:@staff/@users", false;
    std::string from = pair.substr(0, slash), to = pair.substr(slash + 1);
    if (!from.empty() && from[0] == '@') {
      gid_t f, t;
      if (to.empty() || to[0] != '@' || !ParseGroup(from.substr(1), f) ||
          !ParseGroup(to.substr(1), t))
        return expected = "@group/@group with groups that exist", false;
      policy.group_map.emplace_back(f, t);
    } else {
      uid_t f, t;
      if (!ParseUser(from, f) || !ParseUser(to, t))
        return expected = "user/user with users that exist", false;
      policy.user_map.emplace_back(f, t);
    }
  }
  return true;
}

// The users in `gid`, as the group database has them now: its listed
// members and the users whose primary group it is.
std::vector<uid_t> MembersOf(gid_t gid) {
  std::vector<uid_t> uids;
  if (const group* gr = ::getgrgid(gid)) {
    for (char** name = gr->gr_mem; name && *name; ++name)
      if (const passwd* pw = ::getpwnam(*name)) uids.push_back(pw->pw_uid);
  }
  ::setpwent();
  while (const passwd* pw = ::getpwent())
    if (pw->pw_gid == gid) uids.push_back(pw->pw_uid);
  ::endpwent();
  return uids;
}

// mirror=user1:@group1:... (':' between items: ',' separates options).
bool ParseMirror(const std::string& value, PolicyOptions& policy, std::string& expected) {
  expected = "users and @groups that exist, ':' between them, e.g. alice:@staff";
  if (value.empty()) return false;
  std::stringstream items(value);
  std::string item;
  while (std::getline(items, item, ':')) {
    if (!item.empty() && item[0] == '@') {
      gid_t gid;
      if (!ParseGroup(item.substr(1), gid)) return false;
      for (uid_t uid : MembersOf(gid)) policy.mirror_users.push_back(uid);
    } else {
      uid_t uid;
      if (!ParseUser(item, uid)) return false;
      policy.mirror_users.push_back(uid);
    }
  }
  return true;
}

}  // namespace

PolicyItem ApplyPolicyOption(const std::string& key, const std::string& value, bool has_value,
                             PolicyOptions& policy, std::string& expected) {
  auto bad = [&](std::string why) {
    expected = std::move(why);
    return PolicyItem::kBad;
  };

  // Flags, and the three-way rules for chown, chgrp and chmod.
  const std::pair<const char*, bool*> flags[] = {
      {"delete-deny", &policy.delete_deny},       {"rename-deny", &policy.rename_deny},
      {"hide-hard-links", &policy.hide_hard_links}, {"ctime-from-mtime", &policy.ctime_from_mtime},
      {"chmod-allow-x", &policy.chmod_allow_x},   {"xattr-ro", &policy.xattr_read_only},
      {"realistic-permissions", &policy.realistic_permissions}};
  for (auto [name, field] : flags) {
    if (key != name) continue;
    if (has_value) return bad("takes no value");
    *field = true;
    return PolicyItem::kApplied;
  }
  static const std::pair<const char*, ChangeRule> kRules[] = {
      {"normal", ChangeRule::kNormal}, {"ignore", ChangeRule::kIgnore}, {"deny", ChangeRule::kDeny}};
  for (auto [op, field] : {std::pair{"chown-", &policy.chown}, std::pair{"chgrp-", &policy.chgrp},
                           std::pair{"chmod-", &policy.chmod}}) {
    if (key.rfind(op, 0) != 0) continue;
    for (auto [name, rule] : kRules) {
      if (key.substr(std::strlen(op)) != name) continue;
      if (has_value) return bad("takes no value");
      *field = rule;
      return PolicyItem::kApplied;
    }
  }
  if (key == "xattr-rw" || key == "create-as-user" || key == "create-as-mounter") {
    if (has_value) return bad("takes no value");
    if (key == "xattr-rw") {
      policy.xattr_read_only = false;
    } else {
      bool mounter = key == "create-as-mounter";
      policy.create_for_user = mounter ? std::optional<uid_t>(::geteuid()) : std::nullopt;
      policy.create_for_group = mounter ? std::optional<gid_t>(::getegid()) : std::nullopt;
    }
    return PolicyItem::kApplied;
  }

  // Valued options: users, groups, permission specs, the map, offsets.
  const std::pair<const char*, std::optional<uid_t>*> users[] = {
      {"force-user", &policy.force_user}, {"create-for-user", &policy.create_for_user}};
  for (auto [name, field] : users) {
    if (key != name) continue;
    uid_t uid;
    if (!ParseUser(value, uid)) return bad("a user name or uid");
    *field = uid;
    return PolicyItem::kApplied;
  }
  const std::pair<const char*, std::optional<gid_t>*> groups[] = {
      {"force-group", &policy.force_group}, {"create-for-group", &policy.create_for_group}};
  for (auto [name, field] : groups) {
    if (key != name) continue;
    gid_t gid;
    if (!ParseGroup(value, gid)) return bad("a group name or gid");
    *field = gid;
    return PolicyItem::kApplied;
  }
  const std::pair<const char*, PermSpec*> specs[] = {{"perms", &policy.perms},
                                                     {"create-with-perms", &policy.create_with_perms},
                                                     {"chmod-filter", &policy.chmod_filter}};
  for (auto [name, field] : specs) {
    if (key != name) continue;
    std::string why;
    if (value.empty()) return bad("a chmod-like list, e.g. 0644:a+X");
    if (!PermSpec::Parse(value, *field, why)) return bad(why);
    return PolicyItem::kApplied;
  }
  if (key == "mirror" || key == "mirror-only") {
    std::string why;
    if (!ParseMirror(value, policy, why)) return bad(why);
    policy.mirror_only |= key == "mirror-only";
    return PolicyItem::kApplied;
  }
  if (key == "map") {
    std::string why;
    if (!ParseMap(value, policy, why)) return bad(why);
    return PolicyItem::kApplied;
  }
  if (key == "uid-offset" || key == "gid-offset") {
    int64_t offset;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), offset);
    if (value.empty() || ec != std::errc() || p != value.data() + value.size() ||
        offset <= -(int64_t{1} << 32) || offset >= (int64_t{1} << 32))
      return bad("a whole number, e.g. 100000 or -1000");
    (key == "uid-offset" ? policy.uid_offset : policy.gid_offset) = offset;
    return PolicyItem::kApplied;
  }
  return PolicyItem::kNotPolicy;
}

}  // namespace passthroughfs
