#include "test_record.h"

namespace runnel::it {

std::string Describe(const TestRecord& r) {
  auto clip = [](const std::string& s) {
    std::string out;
    for (char c : s.substr(0, 60)) {
      auto uc = static_cast<unsigned char>(c);
      out += (uc >= 0x20 && uc < 0x7f) ? c : '.';
    }
    if (s.size() > 60) out += "...";
    return out + "(" + std::to_string(s.size()) + "B)";
  };
  std::string d = "key=" + (r.key ? clip(*r.key) : std::string("<null>")) + " value=" + clip(r.value) + " headers=[";
  for (const auto& [k, v] : r.headers) d += clip(k) + ":" + clip(v) + " ";
  return d + "]";
}

std::string RandomPrintable(std::mt19937_64& rng, std::size_t min_len, std::size_t max_len) {
  std::uniform_int_distribution<std::size_t> len_dist(min_len, max_len);
  std::uniform_int_distribution<int> ch(0x20, 0x7e);
  std::string s(len_dist(rng), ' ');
  for (auto& c : s) c = static_cast<char>(ch(rng));
  return s;
}

std::string RandomBinary(std::mt19937_64& rng, std::size_t min_len, std::size_t max_len) {
  std::uniform_int_distribution<std::size_t> len_dist(min_len, max_len);
  std::uniform_int_distribution<int> byte(0, 255);
  std::string s(len_dist(rng), '\0');
  for (auto& c : s) c = static_cast<char>(byte(rng));
  return s;
}

std::string RepetitiveText(std::mt19937_64& rng, std::size_t len) {
  static const char* words[] = {"runnel ", "kafka ", "batch ", "offset ", "segment ", "\n"};
  std::uniform_int_distribution<int> pick(0, 5);
  std::string s;
  while (s.size() < len) s += words[pick(rng)];
  s.resize(len);
  return s;
}

TestRecord MakeMixedRecord(std::uint64_t id, std::uint64_t seed) {
  std::mt19937_64 rng(seed * 1000003ULL + id);
  TestRecord r;
  const std::string tag = "#" + std::to_string(id) + "#";
  if (id % 7 != 3) r.key = "key-" + std::to_string(id) + "-" + RandomPrintable(rng, 0, 24);
  switch (id % 5) {
    case 0: r.value = tag + RandomPrintable(rng, 1, 100); break;
    case 1: r.value = tag + RandomBinary(rng, 1, 300); break;
    case 2: r.value = tag + RepetitiveText(rng, 1 + id % 4000); break;
    case 3: r.value = tag + RandomBinary(rng, 2000, 9000); break;
    default: r.value = tag; break;
  }
  const auto header_count = id % 4;
  for (std::uint64_t h = 0; h < header_count; ++h) {
    std::string hv = (h == 1) ? std::string() : RandomBinary(rng, 1, 40);
    r.headers.emplace_back("h" + std::to_string(h), hv);
  }
  return r;
}

}  // namespace runnel::it
