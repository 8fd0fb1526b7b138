/**
 * Departments (职能部门) a demo city needs: the ones the sources name (公安、司法、民政、人社、信访、住建、应急、城管;
 * 水电气、通信) plus environment, health and the community itself, as in the default taxonomy's `departments` map.
 * Codes are the taxonomy's keys, so a category's default department resolves by code.
 */
export const demoDepartments = [
  { code: 'police', name: '公安派出所', nameEn: 'Police station' },
  { code: 'justice', name: '司法所', nameEn: 'Justice office' },
  { code: 'civil-affairs', name: '民政', nameEn: 'Civil affairs' },
  { code: 'hr-social-security', name: '人力资源和社会保障', nameEn: 'Human resources and social security' },
  { code: 'petitions', name: '信访', nameEn: 'Letters and visits (petitions)' },
  { code: 'housing', name: '住房和城乡建设', nameEn: 'Housing and urban-rural development' },
  { code: 'emergency', name: '应急管理', nameEn: 'Emergency management' },
  { code: 'urban-management', name: '城市管理综合执法', nameEn: 'Urban management and law enforcement' },
  { code: 'environment', name: '生态环境', nameEn: 'Ecology and environment' },
  { code: 'health', name: '卫生健康', nameEn: 'Health' },
  { code: 'water', name: '供水', nameEn: 'Water supply' },
  { code: 'power', name: '供电', nameEn: 'Power supply' },
  { code: 'gas', name: '燃气', nameEn: 'Gas supply' },
  { code: 'telecom', name: '通信', nameEn: 'Telecommunications' },
  { code: 'community', name: '社区(村)居委会', nameEn: 'Community (village) committee' },
] as const;

export type DemoDepartmentCode = (typeof demoDepartments)[number]['code'];
