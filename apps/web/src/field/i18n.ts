/** A small zh-CN / en dictionary (no i18next on the phone). zh-CN is the default; the switch is on 同步 / settings. */
const en: Record<string, string> = {
  网格通: 'Wangge Field',
  用户名: 'Username',
  密码: 'Password',
  登录: 'Sign in',
  登录中: 'Signing in…',
  我的任务: 'My tasks',
  任务: 'Tasks',
  更多: 'More',
  上报: 'Report',
  巡查: 'Patrol',
  走访: 'Visits',
  日志: 'Diary',
  团队: 'Team',
  同步: 'Sync',
  条待同步: 'waiting',
  已全部同步: 'All synced',
  离线: 'Offline',
  '检查中…': 'Checking…',
  分钟: 'min',
  '加载中…': 'Loading…',
  未能更新: 'Could not refresh',
  上一位用户: 'The previous user',
  还有: 'still has',
  '条记录未同步。': 'unsent items on this phone.',
  '请由该用户登录同步；或者删除这些记录后继续。':
    'Let them sign in to sync, or delete those items and continue.',
  '返回，由该用户登录': 'Back: let them sign in',
  '确定删除上一位用户未同步的记录？删除后无法恢复。':
    'Delete the previous user’s unsent items? This cannot be undone.',
  删除这些记录并继续: 'Delete them and continue',
  需要重新登录: 'Sign in again',
  同步中: 'Syncing…',
  条失败: 'failed',
  条冲突: 'conflicts',
  待核实: 'To verify',
  待核查: 'To inspect',
  到期: 'Due',
  已超期: 'Overdue',
  待走访: 'Visits due',
  紧急协查: 'Urgent alert',
  走失人员: 'Missing person',
  紧急事件: 'Emergency',
  最后出现: 'Last seen',
  查看: 'Open',
  实时: 'Live',
  连接中: 'Connecting…',
  未连接: 'Not connected',
  已找到: 'Found',
  已解除: 'Lifted',
  发布: 'Sent',
  已确认: 'Acknowledged',
  线索: 'Sightings',
  确认收到: 'Acknowledge',
  未确认: 'Not acknowledged',
  待同步: 'waiting to sync',
  报告线索: 'Report a sighting',
  线索描述: 'What was seen',
  发现时间: 'Seen at',
  拍照: 'Take a photo',
  换一张照片: 'Another photo',
  提交线索: 'Send sighting',
  请填写线索: 'Describe what was seen',
  通知: 'Notice',
  待转达通知: 'Notices to relay',
  未读: 'Unread',
  已转达: 'Relayed',
  '向网格群众转达后，逐个网格确认。': 'After telling the people of a grid, confirm it here.',
  无需转达: 'Nothing to relay',
  附件: 'Attachment',
  '下载失败，请联网后重试。': 'Download failed: try again when online.',
  我的网格: 'My grids',
  暂无: 'None',
  事项分类: 'Category',
  搜索分类: 'Search categories',
  标题: 'Title',
  描述: 'Description',
  照片: 'Photos',
  拍照或选择照片: 'Take or choose a photo',
  位置: 'Location',
  精度: 'accuracy',
  获取位置: 'Get location',
  定位中: 'Locating…',
  无法定位: 'No location',
  现场处置: 'Fixed on the spot',
  处置结果: 'What was done',
  提交: 'Submit',
  已保存待同步: 'Saved; it will be sent when online',
  请选择分类: 'Choose a category',
  请填写标题: 'Enter a title',
  需要位置: 'A location is needed',
  开始巡查: 'Start patrol',
  结束巡查: 'Stop patrol',
  时长: 'Duration',
  距离: 'Distance',
  待发送点: 'Points waiting',
  今日轨迹: "Today's track",
  必访: 'Must visit',
  住户: 'Households',
  记录走访: 'Record a visit',
  走访类型: 'Kind',
  走访情况: 'Notes',
  发现需求: 'Needs found',
  回访日期: 'Follow-up date',
  保存: 'Save',
  取消: 'Cancel',
  修改: 'Edit',
  电话: 'Phone',
  现住址: 'Current address',
  工作单位: 'Work',
  状态: 'Status',
  今日日志: "Today's diary",
  备注: 'Notes',
  保存备注: 'Save notes',
  今日待同步: 'Waiting today',
  合规: 'Compliance',
  巡查达标天数: 'Patrol days met',
  走访覆盖: 'Visit coverage',
  重点覆盖: 'Vulnerable coverage',
  异常: 'Flags',
  待发送: 'Waiting',
  失败: 'Failed',
  冲突: 'Conflicts',
  已发送: 'Sent',
  全部重新发送: 'Resend everything',
  立即同步: 'Sync now',
  语言: 'Language',
  退出登录: 'Sign out',
  重试: 'Retry',
  删除: 'Delete',
  我的: 'Mine',
  服务器: 'On the server',
  解决冲突: 'Resolve conflict',
  提交选择: 'Send my choice',
  离线副本: 'Offline copy',
  更新于: 'updated',
  刷新: 'Refresh',
  月访: 'monthly',
  无数据: 'No data (offline?)',
  个: '',
  条: '',
};

let lang: 'zh-CN' | 'en' = (() => {
  try {
    return localStorage.getItem('wangge.field.lang') === 'en' ? 'en' : 'zh-CN';
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
    localStorage.setItem('wangge.field.lang', next);
  } catch {
    /* private mode */
  }
  document.documentElement.lang = next;
}

export function t(zh: string): string {
  return lang === 'en' ? (en[zh] ?? zh) : zh;
}

/** A bilingual label from the contracts ({ zh, en }). */
export function tl(label: { zh: string; en: string }): string {
  return lang === 'en' ? label.en : label.zh;
}
