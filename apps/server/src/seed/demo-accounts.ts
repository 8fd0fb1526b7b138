/** The demo accounts of the demo city; they share one password. README lists the same table. */
export const demoPassword = 'demo12345';

export const demoAccounts = [
  { username: 'demo-admin', zh: '系统管理员', en: 'administrator (whole system)' },
  { username: 'demo-city', zh: '市指挥中心操作员', en: 'city command centre operator' },
  { username: 'demo-district', zh: '区指挥中心操作员', en: 'operator of the district command centre' },
  { username: 'demo-street', zh: '街道指挥中心操作员', en: 'operator of the first street' },
  { username: 'demo-community', zh: '社区服务站操作员', en: 'operator of a community in that street' },
  { username: 'demo-dept-police', zh: '公安派出所办理人', en: 'police department handler' },
  { username: 'demo-dept-urban', zh: '城管执法办理人', en: 'urban management department handler' },
  { username: 'demo-hotline', zh: '12345 热线话务员', en: 'hotline operator at the city centre' },
  { username: 'demo-leader', zh: '包联领导', en: 'leader (district)' },
  { username: 'demo-gridleader', zh: '网格长', en: 'grid leader (grids of the first community)' },
  { username: 'demo-worker', zh: '专职网格员', en: 'grid worker, a grid in the first community' },
  { username: 'demo-worker2', zh: '专职网格员', en: 'grid worker, a grid in a community of another street' },
  {
    username: 'demo-pro-env',
    zh: '专业网格员(生态环境)',
    en: 'professional worker, environment, several grids',
  },
  { username: 'demo-resident', zh: '居民', en: 'resident' },
] as const;
