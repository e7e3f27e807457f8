#include "nats_connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace runnel::bench {

NatsConnection::NatsConnection(const std::string& address) {
  const auto colon = address.rfind(':');
  const std::string host = colon == std::string::npos ? address : address.substr(0, colon);
  const int port = colon == std::string::npos ? 4222 : std::stoi(address.substr(colon + 1));
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host.c_str(), &sa.sin_addr) != 1 ||
      ::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd_);
    throw std::runtime_error("nats connect " + address + ": " + std::strerror(errno));
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  out_ = "CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":false,\"name\":\"runnel-bench\"}\r\nPING\r\n";
  flush();
  // Wait for the PONG that answers our PING (INFO comes first).
  bool pong = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!pong && std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{fd_, POLLIN, 0};
    if (::poll(&pfd, 1, 100) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) throw std::runtime_error("nats: connection closed during handshake");
    in_.append(buf, static_cast<std::size_t>(n));
    if (in_.find("PONG\r\n") != std::string::npos) pong = true;
    if (in_.find("-ERR") != std::string::npos) throw std::runtime_error("nats: " + in_);
  }
  if (!pong) throw std::runtime_error("nats: no PONG from server");
  in_.clear();
}

NatsConnection::~NatsConnection() {
  if (fd_ >= 0) ::close(fd_);
}

void NatsConnection::subscribe(std::string_view subject, int sid) {
  out_ += "SUB ";
  out_ += subject;
  out_ += ' ';
  out_ += std::to_string(sid);
  out_ += "\r\n";
  flush();
}

void NatsConnection::publish(std::string_view subject, std::string_view reply, std::string_view payload) {
  out_ += "PUB ";
  out_ += subject;
  if (!reply.empty()) {
    out_ += ' ';
    out_ += reply;
  }
  out_ += ' ';
  out_ += std::to_string(payload.size());
  out_ += "\r\n";
  out_ += payload;
  out_ += "\r\n";
  if (out_.size() >= 64 * 1024) flush();
}

void NatsConnection::write_all(std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("nats write: ") + std::strerror(errno));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

void NatsConnection::flush() {
  if (out_.empty()) return;
  write_all(out_);
  out_.clear();
}

std::size_t NatsConnection::read(int timeout_ms, const MessageHandler& handler) {
  flush();
  std::size_t dispatched = parse(handler);
  if (dispatched) return dispatched;
  pollfd pfd{fd_, POLLIN, 0};
  if (::poll(&pfd, 1, timeout_ms) <= 0) return 0;
  if (in_pos_ > 0 && in_pos_ == in_.size()) {
    in_.clear();
    in_pos_ = 0;
  } else if (in_pos_ > (1u << 20)) {
    in_.erase(0, in_pos_);
    in_pos_ = 0;
  }
  const std::size_t old = in_.size();
  in_.resize(old + 256 * 1024);
  const ssize_t n = ::recv(fd_, in_.data() + old, 256 * 1024, 0);
  in_.resize(old + static_cast<std::size_t>(n > 0 ? n : 0));
  if (n == 0) throw std::runtime_error("nats: server closed the connection");
  if (n < 0 && errno != EINTR && errno != EAGAIN) throw std::runtime_error(std::string("nats read: ") + std::strerror(errno));
  return parse(handler);
}

std::size_t NatsConnection::parse(const MessageHandler& handler) {
  std::size_t dispatched = 0;
  for (;;) {
    const std::size_t eol = in_.find("\r\n", in_pos_);
    if (eol == std::string::npos) break;
    std::string_view line(in_.data() + in_pos_, eol - in_pos_);
    if (line.starts_with("MSG ")) {
      // MSG <subject> <sid> [reply-to] <#bytes>
      std::vector<std::string_view> parts;
      std::size_t start = 4;
      while (start < line.size()) {
        std::size_t space = line.find(' ', start);
        if (space == std::string_view::npos) space = line.size();
        if (space > start) parts.push_back(line.substr(start, space - start));
        start = space + 1;
      }
      if (parts.size() < 3) throw std::runtime_error("nats: bad MSG line");
      const std::size_t bytes = std::stoul(std::string(parts.back()));
      if (eol + 2 + bytes + 2 > in_.size()) break;  // payload not complete yet
      const std::string_view payload(in_.data() + eol + 2, bytes);
      const int sid = std::stoi(std::string(parts[1]));
      const std::string subject(parts[0]);
      in_pos_ = eol + 2 + bytes + 2;
      handler(subject, sid, payload);
      ++dispatched;
      continue;
    }
    if (line == "PING") {
      out_ += "PONG\r\n";
      flush();
    } else if (line.starts_with("-ERR")) {
      throw std::runtime_error("nats: " + std::string(line));
    }
    in_pos_ = eol + 2;  // PONG, +OK, INFO
  }
  return dispatched;
}

std::string NatsConnection::request(std::string_view subject, std::string_view reply_subject, int reply_sid,
                                    std::string_view payload, const MessageHandler& others,
                                    std::chrono::milliseconds timeout) {
  publish(subject, reply_subject, payload);
  flush();
  std::string reply;
  bool got = false;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!got && std::chrono::steady_clock::now() < deadline) {
    read(100, [&](std::string_view subj, int sid, std::string_view body) {
      if (sid == reply_sid && !got) {
        reply.assign(body);
        got = true;
      } else if (others) {
        others(subj, sid, body);
      }
    });
  }
  if (!got) throw std::runtime_error("nats: no reply to " + std::string(subject));
  return reply;
}

}  // namespace runnel::bench
