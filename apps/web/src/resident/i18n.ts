/** A small zh-CN / en dictionary (no i18next on the phone). zh-CN is the default; the switch is in the header. */
const en: Record<string, string> = {
  网格主页: 'Grid page',
  网格员: 'Grid worker',
  社区: 'Community',
  通知公告: 'Notices',
  暂无通知: 'No notices yet',
  紧急协查: 'Urgent alert',
  寻人: 'Missing person',
  突发事件: 'Emergency',
  最后出现: 'Last seen',
  地点: 'Place',
  时间: 'Time',
  已找到: 'Found',
  已解除: 'Lifted',
  如有线索请联系网格员: 'If you have seen this person, tell the grid worker',
  投票: 'Polls',
  进行中: 'Open',
  已截止: 'Closed',
  截止: 'Closes',
  提交投票: 'Vote',
  您已投票: 'You have voted',
  随手拍: 'Report a problem',
  我的心愿: 'Make a wish',
  我的上报: 'My reports',
  返回: 'Back',
  语言: 'Language',
  验证手机号: 'Verify your phone',
  '上报问题、提交心愿或投票前，请先验证手机号。号码只用于联系您，不会公开。':
    'To report, make a wish or vote, verify your phone number. It is only used to contact you and is never shown.',
  手机号: 'Phone number',
  获取验证码: 'Get code',
  秒后重发: 's to resend',
  验证码: 'Verification code',
  验证: 'Verify',
  验证码已发送至: 'Code sent to',
  已验证: 'Verified',
  退出验证: 'Forget this phone',
  请输入正确的手机号: 'Enter a valid phone number',
  请输入6位验证码: 'Enter the 6-digit code',
  请求过于频繁: 'Too many requests',
  网络异常: 'Network error, try again',
  标题: 'Title',
  问题描述: 'What is the problem?',
  心愿内容: 'What do you wish for?',
  照片: 'Photo',
  拍照或选择照片: 'Take or choose a photo',
  更换照片: 'Change photo',
  位置: 'Place',
  获取定位: 'Use my location',
  定位中: 'Locating…',
  精度: 'accuracy',
  米: 'm',
  无法定位: 'Location unavailable',
  详细地址: 'Address',
  '如：3 号楼东侧、光复路口': 'e.g. east of building 3, Guangfu Road corner',
  提交: 'Submit',
  提交中: 'Sending…',
  上报成功: 'Reported',
  心愿已提交: 'Wish sent',
  编号: 'No.',
  请填写标题: 'Enter a title',
  请填写描述: 'Describe it',
  需要定位: 'A location is needed: tap “Use my location”',
  '没有获取到定位也没关系：请填写详细地址，将按本网格登记位置':
    'No location? No problem: type the address and we will place it in this grid',
  将按本网格登记位置: 'Will be placed in this grid',
  '未定位时请填写详细地址（至少 4 个字）': 'Without a location, type the address (at least 4 characters)',
  照片上传失败: 'The photo could not be sent; the report was saved',
  查看我的上报: 'See my reports',
  暂无上报: 'Nothing reported yet',
  上报: 'Report',
  心愿: 'Wish',
  评价: 'Rate',
  满意: 'Satisfied',
  基本满意: 'Fairly satisfied',
  不满意: 'Dissatisfied',
  评价内容: 'Comment (optional)',
  提交评价: 'Send rating',
  已评价: 'Rated',
  感谢评价: 'Thank you for rating',
  网格不存在: 'This grid does not exist. Scan the QR code again.',
  输入网格编码: 'Enter the grid code from the QR code',
  打开: 'Open',
  加载中: 'Loading…',
  重试: 'Retry',
  实时更新中: 'Live',
  连接中断: 'Reconnecting…',
  状态_reported: 'Received',
  状态_verifying: 'Being checked',
  状态_filed: 'Accepted',
  状态_not_filed: 'Not accepted',
  状态_duplicate: 'Merged with another report',
  状态_dispatched: 'Assigned',
  状态_in_progress: 'Being handled',
  状态_suspended: 'On hold',
  状态_responded: 'Handled',
  状态_inspecting: 'Being inspected',
  状态_closed: 'Closed',
  状态_evaluated: 'Rated',
};

const zhStatus: Record<string, string> = {
  reported: '已受理',
  verifying: '核实中',
  filed: '已立案',
  not_filed: '不予立案',
  duplicate: '已合并',
  dispatched: '已派遣',
  in_progress: '处理中',
  suspended: '已挂起',
  responded: '已处置',
  inspecting: '核查中',
  closed: '已办结',
  evaluated: '已评价',
};

const langKey = 'wangge.resident.lang';

let lang: 'zh-CN' | 'en' = (() => {
  try {
    return localStorage.getItem(langKey) === 'en' ? 'en' : 'zh-CN';
  } catch {
    return 'zh-CN';
  }
})();

export function language(): 'zh-CN' | 'en' {
  return lang;
}

export function setLanguage(next: 'zh-CN' | 'en'): void {
  lang = next;
  try {
    localStorage.setItem(langKey, next);
  } catch {
    // private mode
  }
  document.documentElement.lang = next;
}

export function t(zh: string): string {
  return lang === 'en' ? (en[zh] ?? zh) : zh;
}

/** 共 n 人投票 / n votes */
export function voteCount(n: number): string {
  return lang === 'en' ? `${n} ${n === 1 ? 'vote' : 'votes'}` : `共 ${n} 人投票`;
}

/** The colon after a label: full width in Chinese. */
export function colon(): string {
  return lang === 'en' ? ': ' : '：';
}

export function statusLabel(status: string): string {
  return lang === 'en' ? (en[`状态_${status}`] ?? status) : (zhStatus[status] ?? status);
}

/** A date and time as people read it (China time on Chinese phones). */
export function when(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  return d.toLocaleString(lang === 'en' ? 'en-GB' : 'zh-CN', {
    month: 'numeric',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}

/** The server's messages are "中文 (English)": show the half of the chosen language. */
export function serverText(message: string): string {
  const m = /^(.*?)\s*\(([^()]*)\)\s*$/.exec(message);
  if (!m) return message;
  return lang === 'en' ? m[2]! : m[1]!;
}

export const statusKeys = Object.keys(zhStatus);

/** Whether a Chinese text has its English (the unit test checks every literal of the screens). */
export function hasEnglish(zh: string): boolean {
  return zh in en;
}

/** What went wrong, for a person: the server's message (in the chosen language, without its field prefix). */
export function describeError(e: unknown): string {
  const status = (e as { status?: number }).status;
  if (status === 0) return t('网络异常');
  const message = e instanceof Error ? e.message : String(e);
  const text = serverText(message).replace(/^[a-zA-Z.]+:\s*/, '');
  return status === 429 && !text ? t('请求过于频繁') : text;
}
