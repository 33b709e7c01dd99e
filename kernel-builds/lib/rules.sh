#!/usr/bin/env bash
# Generated from components/topology/shared-rules.ts by `npm run gen:rules`: do not edit.
# The rules validate applies to values that reach a host's shell; sourced by common.sh.
# shellcheck shell=bash

# git URL: use https://…, ssh://…, git://…, user@host:path or file:///PATH (a mirror on each host), without spaces or shell characters
nmtb_rule_git_url() {
  local re='^((https|ssh|git)://[A-Za-z0-9._~:/@%+=,-]+|file:///[A-Za-z0-9._~/@%+=,-]+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[A-Za-z0-9._~/%+=,-]+)$'
  [[ $1 =~ $re ]] || return 1
  re='/\.\./'
  [[ ! $1 =~ $re ]] || return 1
  re='/\.\.$'
  [[ ! $1 =~ $re ]] || return 1
}
nmtb_require_git_url() {
  local hint='use https://…, ssh://…, git://…, user@host:path or file:///PATH (a mirror on each host), without spaces or shell characters'
  nmtb_rule_git_url "$1" || nmtb_usage_error "invalid ${2:-git URL} '$1': $hint"
}

# git ref: a branch, tag or commit: letters, digits, ".", "_", "/", "+" or "-", starting with a letter, digit or "_", without ".." or a trailing "/"
nmtb_rule_git_ref() {
  local re='^[A-Za-z0-9_][A-Za-z0-9._/+-]{0,199}$'
  [[ $1 =~ $re ]] || return 1
  re='\.\.'
  [[ ! $1 =~ $re ]] || return 1
  re='/$'
  [[ ! $1 =~ $re ]] || return 1
  re='\.lock$'
  [[ ! $1 =~ $re ]] || return 1
  re='//'
  [[ ! $1 =~ $re ]] || return 1
  re='/\.'
  [[ ! $1 =~ $re ]] || return 1
}
nmtb_require_git_ref() {
  local hint='a branch, tag or commit: letters, digits, ".", "_", "/", "+" or "-", starting with a letter, digit or "_", without ".." or a trailing "/"'
  nmtb_rule_git_ref "$1" || nmtb_usage_error "invalid ${2:-git ref} '$1': $hint"
}

# path: an absolute path of letters, digits and ._+,@%=:/- without ".." components, e.g. /srv/netmap.tar.gz
nmtb_rule_host_path() {
  local re='^/[A-Za-z0-9._+,@%=/:-]*$'
  [[ $1 =~ $re ]] || return 1
  re='(^|/)\.\.(/|$)'
  [[ ! $1 =~ $re ]] || return 1
}
nmtb_require_host_path() {
  local hint='an absolute path of letters, digits and ._+,@%=:/- without ".." components, e.g. /srv/netmap.tar.gz'
  nmtb_rule_host_path "$1" || nmtb_usage_error "invalid ${2:-path} '$1': $hint"
}
